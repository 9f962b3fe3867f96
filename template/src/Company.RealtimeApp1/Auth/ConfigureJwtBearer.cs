using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Company.RealtimeApp1.Auth;

/// <summary>
/// Validates our access tokens: HS256 only, issuer, audience, lifetime, and a user who is still allowed
/// in. Other layers may add to the events (the realtime layer reads WebSocket handshakes' credentials
/// and records why one was refused); a refusal's message is what a client may be told, so it never
/// repeats a credential.
/// </summary>
internal sealed class ConfigureJwtBearer(IOptions<JwtOptions> jwtOptions) : IConfigureNamedOptions<JwtBearerOptions>
{
    public void Configure(string? name, JwtBearerOptions options)
    {
        if (name != JwtBearerDefaults.AuthenticationScheme)
        {
            return;
        }

        var jwt = jwtOptions.Value;
        options.MapInboundClaims = false;
        options.TokenValidationParameters = new TokenValidationParameters
        {
            ValidIssuer = jwt.Issuer,
            ValidAudience = jwt.Audience,
            IssuerSigningKey = new SymmetricSecurityKey(jwt.SigningKeyBytes),
            ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ClockSkew = TimeSpan.FromSeconds(jwt.ClockSkewSeconds),
            NameClaimType = TokenClaims.Name,
            RoleClaimType = TokenClaims.Role,
        };
        // Not saved (the default is to): the token would stay in the request's AuthenticationProperties,
        // which on a WebSocket live as long as the socket. POST /ws/ticket reads the header instead.
        options.SaveToken = false;
        options.Events = new JwtBearerEvents { OnTokenValidated = EnsureUserIsStillAllowedAsync };
    }

    public void Configure(JwtBearerOptions options) => Configure(Options.DefaultName, options);

    /// <summary>
    /// A signature proves who the token was issued to, not that they may still use it: see
    /// <see cref="AccessTokenValidator.IsUserStillAllowedAsync"/>.
    /// </summary>
    private static async Task EnsureUserIsStillAllowedAsync(TokenValidatedContext context)
    {
        if (context.Principal is null || !TokenClaims.TryReadUser(context.Principal, out _, out _))
        {
            context.Fail(NoUser);
            return;
        }

        var validator = context.HttpContext.RequestServices.GetRequiredService<AccessTokenValidator>();
        if (!await validator.IsUserStillAllowedAsync(context.Principal, context.HttpContext.RequestAborted))
        {
            context.Fail(UserNoLongerAllowed);
            return;
        }

        // A WebSocket request keeps its principal as long as the socket: without the parsed token, then.
        // An HTTP request is over in milliseconds, and copying its claims would buy nothing.
        if (context.HttpContext.WebSockets.IsWebSocketRequest)
        {
            context.Principal = TokenClaims.DetachFromToken(context.Principal);
        }
    }

    private const string NoUser = "The access token does not name a user.";

    private const string UserNoLongerAllowed = "The token's user no longer exists, is disabled, or has changed their credentials.";
}

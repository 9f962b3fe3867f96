using Company.RealtimeApp1.Realtime;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Company.RealtimeApp1.Auth;

/// <summary>
/// Validates our access tokens: HS256 only, issuer, audience, lifetime, and a user who is still allowed
/// in. On WebSocket endpoints the token may also come from elsewhere than the Authorization header
/// (<see cref="HandshakeCredentials"/>), and why one was refused is recorded for the failure contract.
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
        options.Events = new JwtBearerEvents
        {
            OnMessageReceived = context => context.HttpContext.RequestServices.GetRequiredService<HandshakeCredentials>().ReadAsync(context),
            OnAuthenticationFailed = RecordValidationFailure,
            OnTokenValidated = EnsureUserIsStillAllowedAsync,
        };
    }

    public void Configure(JwtBearerOptions options) => Configure(Options.DefaultName, options);

    private static Task RecordValidationFailure(AuthenticationFailedContext context)
    {
        HandshakeFailure.Record(context.HttpContext, HandshakeFailure.FromValidationException(context.Exception));
        return Task.CompletedTask;
    }

    /// <summary>
    /// A signature proves who the token was issued to, not that they may still use it: see
    /// <see cref="AccessTokenValidator.IsUserStillAllowedAsync"/>.
    /// </summary>
    private static async Task EnsureUserIsStillAllowedAsync(TokenValidatedContext context)
    {
        if (context.Principal is null || !TokenClaims.TryReadUser(context.Principal, out _, out _))
        {
            Refuse(context, HandshakeFailure.NoUser);
            return;
        }

        var validator = context.HttpContext.RequestServices.GetRequiredService<AccessTokenValidator>();
        if (!await validator.IsUserStillAllowedAsync(context.Principal, context.HttpContext.RequestAborted))
        {
            Refuse(context, HandshakeFailure.UserNoLongerAllowed);
            return;
        }

        // A WebSocket request keeps its principal as long as the socket: without the parsed token, then.
        // An HTTP request is over in milliseconds, and copying its claims would buy nothing.
        if (context.HttpContext.WebSockets.IsWebSocketRequest)
        {
            context.Principal = TokenClaims.DetachFromToken(context.Principal);
        }
    }

    private static void Refuse(TokenValidatedContext context, HandshakeFailure failure)
    {
        HandshakeFailure.Record(context.HttpContext, failure);
        context.Fail(failure.Detail);
    }
}

using Company.RealtimeApp1.Data;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Company.RealtimeApp1.Auth;

/// <summary>Validates our access tokens: HS256 only, issuer, audience, lifetime, and a user who is still allowed in.</summary>
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
        options.Events = new JwtBearerEvents { OnTokenValidated = EnsureUserIsStillAllowedAsync };
    }

    public void Configure(JwtBearerOptions options) => Configure(Options.DefaultName, options);

    /// <summary>
    /// A signature proves who the token was issued to, not that they may still use it: the user must
    /// still exist, be enabled, and have the security stamp the token was issued with (a password
    /// change rotates the stamp).
    /// </summary>
    private static async Task EnsureUserIsStillAllowedAsync(TokenValidatedContext context)
    {
        var subject = context.Principal?.FindFirst(TokenClaims.Subject)?.Value;
        var stamp = context.Principal?.FindFirst(TokenClaims.SecurityStamp)?.Value;
        if (!Guid.TryParse(subject, out var userId) || stamp is null)
        {
            context.Fail("The token does not name a user.");
            return;
        }

        var db = context.HttpContext.RequestServices.GetRequiredService<AppDbContext>();
        var user = await db.Users.AsNoTracking()
            .Where(u => u.Id == userId)
            .Select(u => new { u.IsDisabled, u.SecurityStamp })
            .SingleOrDefaultAsync(context.HttpContext.RequestAborted);
        if (user is null || user.IsDisabled || TokenClaims.DigestSecurityStamp(user.SecurityStamp) != stamp)
        {
            context.Fail("The token's user no longer exists, is disabled, or has changed their credentials.");
        }
    }
}

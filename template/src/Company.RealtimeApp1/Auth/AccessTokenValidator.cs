using System.Security.Claims;
using Company.RealtimeApp1.Data;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Company.RealtimeApp1.Auth;

/// <summary>
/// Validates an access token outside the authentication middleware (an <c>auth.refresh</c> on an open
/// socket) exactly as the JwtBearer handler does, with the same parameters and the same user checks.
/// </summary>
public sealed class AccessTokenValidator(
    IOptionsMonitor<JwtBearerOptions> bearerOptions,
    IServiceScopeFactory scopes,
    AccessCache cache)
{
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    /// <summary>The token's principal when it is valid and its user still allowed in; otherwise null.</summary>
    public async Task<ClaimsPrincipal?> ValidateAsync(string token, CancellationToken cancellationToken)
    {
        var parameters = bearerOptions.Get(JwtBearerDefaults.AuthenticationScheme).TokenValidationParameters;
        var result = await _handler.ValidateTokenAsync(token, parameters);
        if (!result.IsValid)
        {
            return null;
        }

        // Kept for the rest of the connection (auth.refresh): without the token object it was read from.
        var principal = TokenClaims.DetachFromToken(new ClaimsPrincipal(result.ClaimsIdentity));
        return await IsUserStillAllowedAsync(principal, cancellationToken) ? principal : null;
    }

    /// <summary>
    /// A signature proves who the token was issued to, not that they may still use it: the user must
    /// still exist, be enabled, and have the security stamp the token was issued with (a password
    /// change rotates the stamp). A user let in within the last 30 seconds with the same stamp, and not
    /// revoked since, is not looked up again (<see cref="AccessCache"/>).
    /// </summary>
    public async Task<bool> IsUserStillAllowedAsync(ClaimsPrincipal principal, CancellationToken cancellationToken)
    {
        if (!TokenClaims.TryReadUser(principal, out var userId, out var stamp))
        {
            return false;
        }

        if (cache.TryGetAccount(userId, out var allowedStamp) && allowedStamp == stamp)
        {
            return true;
        }

        var generation = cache.Generation;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var user = await db.Users.AsNoTracking()
            .Where(u => u.Id == userId)
            .Select(u => new { u.IsDisabled, u.SecurityStamp })
            .SingleOrDefaultAsync(cancellationToken);
        if (user is not { IsDisabled: false } || TokenClaims.DigestSecurityStamp(user.SecurityStamp) != stamp)
        {
            return false;
        }

        cache.RememberAccount(userId, stamp, generation);
        return true;
    }
}

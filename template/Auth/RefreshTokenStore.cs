using System.Security.Cryptography;
using System.Text;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Realtime;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Auth;

/// <summary>Issues, rotates and revokes refresh tokens (RFC 6749 §6, RFC 6819 §5.2.2.3 rotation).</summary>
internal sealed partial class RefreshTokenStore(
    AppDbContext db,
    IOptions<JwtOptions> options,
    ConnectionRevocations revocations,
    TimeProvider time,
    ILogger<RefreshTokenStore> logger)
{
    /// <summary>Starts a new family (a password grant) when <paramref name="familyId"/> is null.</summary>
    public async Task<string> IssueAsync(Guid userId, Guid? familyId, CancellationToken cancellationToken)
    {
        var token = Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        var now = time.GetUtcNow().UtcDateTime;
        db.RefreshTokens.Add(new RefreshToken
        {
            TokenHash = Hash(token),
            FamilyId = familyId ?? Guid.CreateVersion7(),
            UserId = userId,
            CreatedAt = now,
            ExpiresAt = now + options.Value.RefreshTokenLifetime,
        });
        await db.SaveChangesAsync(cancellationToken);
        return token;
    }

    /// <summary>
    /// Consumes a refresh token. Returns the token's record when it was live; null when it is unknown,
    /// expired or revoked. Presenting an already consumed token revokes its whole family, because
    /// either the client or an attacker holds a stolen copy.
    /// </summary>
    public async Task<RefreshToken?> RedeemAsync(string token, CancellationToken cancellationToken)
    {
        var hash = Hash(token);
        var stored = await db.RefreshTokens.AsNoTracking().SingleOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        if (stored is null || stored.RevokedAt is not null || stored.ExpiresAt <= now)
        {
            return null;
        }

        // Claim the token atomically: of two concurrent redemptions only one may succeed.
        var claimed = stored.ConsumedAt is null && await db.RefreshTokens
            .Where(t => t.Id == stored.Id && t.ConsumedAt == null && t.RevokedAt == null)
            .ExecuteUpdateAsync(t => t.SetProperty(x => x.ConsumedAt, now), cancellationToken) == 1;
        if (!claimed)
        {
            Log.ReuseDetected(logger, stored.FamilyId, stored.UserId);
            await RevokeFamilyAsync(stored.FamilyId, stored.UserId, cancellationToken);
            return null;
        }

        return stored;
    }

    /// <summary>Revokes the family of <paramref name="token"/>; unknown tokens are ignored (RFC 7009 §2.2).</summary>
    public async Task RevokeAsync(string token, CancellationToken cancellationToken)
    {
        var hash = Hash(token);
        var family = await db.RefreshTokens.Where(t => t.TokenHash == hash)
            .Select(t => new { t.FamilyId, t.UserId }).SingleOrDefaultAsync(cancellationToken);
        if (family is not null)
        {
            await RevokeFamilyAsync(family.FamilyId, family.UserId, cancellationToken);
        }
    }

    /// <summary>Revokes the family and closes the user's sockets: whoever holds its tokens must sign in again.</summary>
    private async Task RevokeFamilyAsync(Guid familyId, Guid userId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var revoked = await db.RefreshTokens
            .Where(t => t.FamilyId == familyId && t.RevokedAt == null)
            .ExecuteUpdateAsync(t => t.SetProperty(x => x.RevokedAt, now), cancellationToken);
        Log.FamilyRevoked(logger, familyId, revoked);
        await revocations.RevokeUserAsync(userId, "sign-in revoked", cancellationToken);
    }

    private static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string Base64UrlEncode(byte[] bytes) => Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(bytes);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "A consumed refresh token of family {FamilyId} (user {UserId}) was presented again; revoking the family")]
        public static partial void ReuseDetected(ILogger logger, Guid familyId, Guid userId);

        [LoggerMessage(2, LogLevel.Information, "Revoked refresh-token family {FamilyId} ({Count} live tokens)")]
        public static partial void FamilyRevoked(ILogger logger, Guid familyId, int count);
    }
}

using System.Security.Cryptography;
using System.Text;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Users;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Auth;

/// <summary>
/// The outcome of a refresh: the user as the rotation found them (the access token is issued from this
/// very row, so a password change committed a moment later cannot lend it the new stamp), and the token
/// that replaces the one presented.
/// </summary>
internal sealed record RefreshRotation(User User, string RefreshToken);

/// <summary>
/// Told when a sign-in (a refresh-token family) is revoked, so that what else lives on the user's
/// sign-ins ends too: the app closes their open sockets.
/// </summary>
public interface ISignInRevocationListener
{
    ValueTask OnSignInRevokedAsync(Guid userId, CancellationToken cancellationToken);
}

/// <summary>
/// Issues, rotates and revokes refresh tokens (RFC 6749 §6, RFC 6819 §5.2.2.3 rotation) in families:
/// every token descends from one sign-in, lives no longer than it, and dies with it.
/// </summary>
internal sealed partial class RefreshTokenStore(
    AppDbContext db,
    IOptions<JwtOptions> options,
    IEnumerable<ISignInRevocationListener> revocationListeners,
    TimeProvider time,
    ILogger<RefreshTokenStore> logger)
{
    /// <summary>Starts a family for a password grant and returns its first token.</summary>
    public async Task<string> StartFamilyAsync(User user, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var family = new RefreshTokenFamily
        {
            UserId = user.Id,
            SecurityStampDigest = TokenClaims.DigestSecurityStamp(user.SecurityStamp),
            CreatedAt = now,
            ExpiresAt = now + options.Value.RefreshTokenLifetime,
        };
        db.RefreshTokenFamilies.Add(family);
        var token = AddToken(family.Id, now);
        await db.SaveChangesAsync(cancellationToken);
        return token;
    }

    /// <summary>
    /// Exchanges a refresh token for the next of its family, or returns null when it is unknown, its family
    /// expired or revoked, or its user no longer holds the authority the family started with. Presenting
    /// an already consumed token revokes the whole family, because either the client or an attacker holds
    /// a stolen copy; of any number of concurrent redemptions of one token, one transaction decides.
    /// </summary>
    public async Task<RefreshRotation?> RotateAsync(string token, CancellationToken cancellationToken)
    {
        var hash = Hash(token);
        var now = time.GetUtcNow().UtcDateTime;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);

        // The claim comes first: it takes the write lock (SQLite) or the row lock (PostgreSQL), so what this
        // transaction reads next includes everything an earlier redemption of the same token committed.
        var claimed = await db.RefreshTokens
            .Where(t => t.TokenHash == hash && t.ConsumedAt == null)
            .ExecuteUpdateAsync(t => t.SetProperty(x => x.ConsumedAt, now), cancellationToken) == 1;
        var family = await db.RefreshTokens.Where(t => t.TokenHash == hash).Select(t => t.Family!).SingleOrDefaultAsync(cancellationToken);
        if (family is null || family.RevokedAt is not null || family.ExpiresAt <= now)
        {
            return null;
        }

        if (!claimed)
        {
            Log.ReuseDetected(logger, family.Id, family.UserId);
            await RevokeFamilyAsync(family, now, transaction, cancellationToken);
            return null;
        }

        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == family.UserId, cancellationToken);
        if (user is not { IsDisabled: false } || TokenClaims.DigestSecurityStamp(user.SecurityStamp) != family.SecurityStampDigest)
        {
            // Password changes and disabling revoke families themselves; this catches what they missed
            // (a change made behind the app's back), and buries the family for good.
            await RevokeFamilyAsync(family, now, transaction, cancellationToken);
            return null;
        }

        var next = AddToken(family.Id, now);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new RefreshRotation(user, next);
    }

    /// <summary>Revokes the family of <paramref name="token"/>; unknown tokens are ignored (RFC 7009 §2.2).</summary>
    public async Task RevokeAsync(string token, CancellationToken cancellationToken)
    {
        var hash = Hash(token);
        var family = await db.RefreshTokens.Where(t => t.TokenHash == hash).Select(t => t.Family!).SingleOrDefaultAsync(cancellationToken);
        if (family is not null)
        {
            await RevokeFamilyAsync(family, time.GetUtcNow().UtcDateTime, transaction: null, cancellationToken);
        }
    }

    /// <summary>Revokes every family of the user: their password changed, or they were disabled.</summary>
    public async Task RevokeAllFamiliesAsync(Guid userId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var revoked = await db.RefreshTokenFamilies
            .Where(f => f.UserId == userId && f.RevokedAt == null)
            .ExecuteUpdateAsync(f => f.SetProperty(x => x.RevokedAt, now), cancellationToken);
        Log.UserFamiliesRevoked(logger, userId, revoked);
    }

    /// <summary>Revokes the family and closes the user's sockets: whoever holds its tokens must sign in again.</summary>
    private async Task RevokeFamilyAsync(
        RefreshTokenFamily family, DateTime now, Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction? transaction, CancellationToken cancellationToken)
    {
        await db.RefreshTokenFamilies
            .Where(f => f.Id == family.Id && f.RevokedAt == null)
            .ExecuteUpdateAsync(f => f.SetProperty(x => x.RevokedAt, now), cancellationToken);
        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
        }

        Log.FamilyRevoked(logger, family.Id, family.UserId);
        foreach (var listener in revocationListeners)
        {
            await listener.OnSignInRevokedAsync(family.UserId, cancellationToken);
        }
    }

    private string AddToken(Guid familyId, DateTime now)
    {
        var token = Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        db.RefreshTokens.Add(new RefreshToken { TokenHash = Hash(token), FamilyId = familyId, CreatedAt = now });
        return token;
    }

    private static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string Base64UrlEncode(byte[] bytes) => Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(bytes);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "A consumed refresh token of family {FamilyId} (user {UserId}) was presented again; revoking the family")]
        public static partial void ReuseDetected(ILogger logger, Guid familyId, Guid userId);

        [LoggerMessage(2, LogLevel.Information, "Revoked refresh-token family {FamilyId} of user {UserId}")]
        public static partial void FamilyRevoked(ILogger logger, Guid familyId, Guid userId);

        [LoggerMessage(3, LogLevel.Information, "Revoked {Count} refresh-token families of user {UserId}")]
        public static partial void UserFamiliesRevoked(ILogger logger, Guid userId, int count);
    }
}

using Company.RealtimeApp1.Auth;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.WebSockets;
using Microsoft.EntityFrameworkCore;

namespace Company.RealtimeApp1.Users;

/// <summary>
/// A connection lives on its user's authority: the user must still exist, be enabled, and hold the
/// security stamp the connection's token was issued with. Otherwise it closes with 4001. A token
/// presented on an open socket is validated as the handshake's was.
/// </summary>
internal sealed class UserConnectionAuthority(IServiceScopeFactory scopes, AccessTokenValidator accessTokens, AccessCache cache)
    : IConnectionAuthority, IConnectionTokenValidator
{
    public async ValueTask<System.Security.Claims.ClaimsPrincipal?> ValidateAsync(string accessToken, CancellationToken cancellationToken) =>
        await accessTokens.ValidateAsync(accessToken, cancellationToken);

    private const string Withdrawn = "credentials changed";

    public async ValueTask<IReadOnlyCollection<WithdrawnAuthority>> RecheckAsync(
        IReadOnlyList<RealtimeConnection> connections, AuthorityRecheck recheck, CancellationToken cancellationToken)
    {
        var withdrawn = new List<WithdrawnAuthority>();
        if (recheck == AuthorityRecheck.Joined)
        {
            // Just after a handshake: what the access cache remembers, which every revocation clears.
            foreach (var connection in connections)
            {
                if (!await accessTokens.IsUserStillAllowedAsync(connection.User, cancellationToken))
                {
                    withdrawn.Add(new WithdrawnAuthority(connection, CloseCodes.Unauthorized, Withdrawn));
                }
            }

            return withdrawn;
        }

        var userIds = connections.Select(c => c.Identity.UserId).Distinct().ToList();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var stamps = await db.Users.AsNoTracking()
            .Where(u => userIds.Contains(u.Id) && !u.IsDisabled)
            .Select(u => new { u.Id, u.SecurityStamp })
            .ToDictionaryAsync(u => u.Id, u => TokenClaims.DigestSecurityStamp(u.SecurityStamp), cancellationToken);
        foreach (var connection in connections)
        {
            if (!TokenClaims.TryReadUser(connection.User, out var userId, out var stamp)
                || !stamps.TryGetValue(userId, out var current)
                || current != stamp)
            {
                // No revocation told this instance; what it remembered of the user is stale too.
                cache.Forget(connection.Identity.UserId);
                withdrawn.Add(new WithdrawnAuthority(connection, CloseCodes.Unauthorized, Withdrawn));
            }
        }

        return withdrawn;
    }
}

using Company.RealtimeApp1.Auth;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.WebSockets;
using Microsoft.EntityFrameworkCore;

namespace Company.RealtimeApp1.Organizations;

/// <summary>
/// A connection on an organization's stream (or a stream under it) lives on its user's membership of that
/// organization; without it, the connection closes with 4003.
/// </summary>
internal sealed class OrganizationStreamAuthority(IServiceScopeFactory scopes, AccessCache cache) : IConnectionAuthority
{
    internal const string Withdrawn = "membership removed";

    public async ValueTask<IReadOnlyCollection<WithdrawnAuthority>> RecheckAsync(
        IReadOnlyList<RealtimeConnection> connections, AuthorityRecheck recheck, CancellationToken cancellationToken)
    {
        var relied = new List<(RealtimeConnection Connection, Guid Organization)>();
        foreach (var connection in connections)
        {
            foreach (var stream in connection.Streams)
            {
                // Just after a handshake, a membership the cache remembers will do: removing it clears the entry.
                if (OrganizationStream.OrganizationOf(stream) is { } organization
                    && !(recheck == AuthorityRecheck.Joined && cache.IsRememberedMember(connection.Identity.UserId, organization)))
                {
                    relied.Add((connection, organization));
                }
            }
        }

        if (relied.Count == 0)
        {
            return [];
        }

        var userIds = relied.Select(r => r.Connection.Identity.UserId).Distinct().ToList();
        var organizationIds = relied.Select(r => r.Organization).Distinct().ToList();
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var held = (await db.Memberships.AsNoTracking()
                .Where(m => userIds.Contains(m.UserId) && organizationIds.Contains(m.OrganizationId))
                .Select(m => new { m.UserId, m.OrganizationId })
                .ToListAsync(cancellationToken))
            .Select(m => (m.UserId, m.OrganizationId))
            .ToHashSet();

        var withdrawn = new List<WithdrawnAuthority>();
        foreach (var (connection, organization) in relied)
        {
            if (!held.Contains((connection.Identity.UserId, organization)) && !withdrawn.Exists(w => w.Connection == connection))
            {
                cache.Forget(connection.Identity.UserId);
                withdrawn.Add(new WithdrawnAuthority(connection, CloseCodes.Forbidden, Withdrawn));
            }
        }

        return withdrawn;
    }
}

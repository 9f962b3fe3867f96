using System.Text.Json;

namespace SignalRPeer;

/// <summary>
/// Who belongs to which organization, read once from the file the benchmark runner writes (organization id
/// to member user ids, taken from the subject). The subject asks its database at each handshake; this peer
/// looks in memory, which is what a SignalR app that caches memberships would do.
/// </summary>
public sealed class OrganizationMembers(Dictionary<Guid, HashSet<string>> members)
{
    public static OrganizationMembers Load(string? path)
    {
        if (string.IsNullOrEmpty(path))
        {
            return new OrganizationMembers([]);
        }

        var read = JsonSerializer.Deserialize<Dictionary<Guid, string[]>>(File.ReadAllText(path)) ?? [];
        return new OrganizationMembers(read.ToDictionary(
            pair => pair.Key,
            pair => pair.Value.Select(id => Guid.Parse(id).ToString()).ToHashSet(StringComparer.OrdinalIgnoreCase)));
    }

    public bool IsMember(Guid organizationId, string? userId) =>
        userId is not null && members.TryGetValue(organizationId, out var ofOrganization) && ofOrganization.Contains(userId);
}

/// <summary>Increasing ids for published messages, as the subject's database gives.</summary>
public sealed class EventIds
{
    private long _last;

    public long Next() => Interlocked.Increment(ref _last);
}

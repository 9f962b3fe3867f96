using Company.RealtimeApp1.WebSockets;

namespace Company.RealtimeApp1.Organizations;

/// <summary>
/// An organization's stream, <c>org:&lt;id&gt;</c>, and the streams under it (<c>org:&lt;id&gt;:presence</c>): whoever
/// is on any of them relies on a membership of the organization, and loses them all when it is removed.
/// </summary>
public readonly record struct OrganizationStream(Guid OrganizationId)
{
    private const string Prefix = "org:";

    public string Name => StreamNames.WithId(Prefix, OrganizationId);

    /// <summary>A stream under the organization's, such as <c>Under("presence")</c>: members only, revoked with it.</summary>
    public string Under(string child) => StreamNames.Under(Name, child);

    /// <summary>The organization's own stream, exactly.</summary>
    public static bool TryParse(string stream, out OrganizationStream parsed) => TryRead(stream, orUnder: false, out parsed);

    /// <summary>The organization of its stream or of any stream under it.</summary>
    public static bool TryReadWithin(string stream, out OrganizationStream parsed) => TryRead(stream, orUnder: true, out parsed);

    public override string ToString() => Name;

    private static bool TryRead(string stream, bool orUnder, out OrganizationStream parsed)
    {
        var found = StreamNames.TryReadId(stream, Prefix, orUnder, out var organizationId);
        parsed = new OrganizationStream(organizationId);
        return found;
    }
}

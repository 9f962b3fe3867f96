using Company.RealtimeApp1.WebSockets;

namespace Company.RealtimeApp1.Organizations;

/// <summary>
/// An organization's stream, <c>org:&lt;id&gt;</c>, and the scope of the streams that live under it: whoever is
/// on any of them relies on a membership of the organization, and loses them all when it is removed.
/// </summary>
public static class OrganizationStream
{
    public const string Kind = "org";

    public static StreamId For(Guid organizationId) => StreamId.For(Kind, organizationId);

    /// <summary>The organization <paramref name="stream"/> is, or lives under; null for a stream outside every organization.</summary>
    public static Guid? OrganizationOf(StreamId stream) =>
        stream.Within(Kind) is { } organization && Guid.TryParseExact(organization.Key, "N", out var id) ? id : null;
}

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// Where each instance records which users it has on which stream, for the others to read: in memory one
/// instance needs none of it; over Redis a record lives <see cref="PresenceOptions.Lifetime"/> unless its
/// instance renews it, so an instance that dies without a goodbye drops out of everyone's presence.
/// Every call is per stream and instance, never per socket.
/// </summary>
public interface IPresenceStore
{
    /// <summary>Records that <paramref name="instance"/> has <paramref name="user"/> on <paramref name="stream"/>, or no longer has.</summary>
    ValueTask SetAsync(string instance, StreamId stream, PresenceUser user, bool present, CancellationToken cancellationToken);

    /// <summary>
    /// Keeps <paramref name="instance"/>'s records of <paramref name="users"/>' streams alive; with <paramref name="rewrite"/>,
    /// writes them anew (a Redis that restarted empty lost them).
    /// </summary>
    ValueTask RenewAsync(string instance, IReadOnlyDictionary<StreamId, PresenceUser[]> users, bool rewrite, CancellationToken cancellationToken);

    /// <summary>The users each instance but <paramref name="instance"/> has on <paramref name="stream"/>, by instance.</summary>
    ValueTask<IReadOnlyDictionary<string, PresenceUser[]>> ReadOthersAsync(string instance, StreamId stream, CancellationToken cancellationToken);
}

/// <summary>One instance: nobody else to tell, nothing to read.</summary>
internal sealed class LocalPresenceStore : IPresenceStore
{
    private static readonly IReadOnlyDictionary<string, PresenceUser[]> Nobody = new Dictionary<string, PresenceUser[]>();

    public ValueTask SetAsync(string instance, StreamId stream, PresenceUser user, bool present, CancellationToken cancellationToken) =>
        ValueTask.CompletedTask;

    public ValueTask RenewAsync(string instance, IReadOnlyDictionary<StreamId, PresenceUser[]> users, bool rewrite, CancellationToken cancellationToken) =>
        ValueTask.CompletedTask;

    public ValueTask<IReadOnlyDictionary<string, PresenceUser[]>> ReadOthersAsync(string instance, StreamId stream, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Nobody);
}

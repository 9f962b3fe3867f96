using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// Who is online on a stream, on every instance, each user once however many sockets they hold (SPEC §3
/// "Presence"). This instance counts its own sockets per user; when a user's first socket here opens or their
/// last one closes, it records so in the <see cref="IPresenceStore"/> and tells the other instances over the bus
/// (on a presence stream under the stream, one subscription per stream per instance); from its own users and
/// what the others told it, each instance knows who is online and tells its own sockets who came and went
/// (<c>presence.joined</c>, <c>presence.left</c>). Every <see cref="PresenceOptions.RenewInterval"/> it renews
/// its records and reads the others' again: an instance that died without a goodbye drops out once its records
/// expire, and after a Redis restart <see cref="RebuildAsync"/> writes everything back.
/// </summary>
/// <remarks>
/// What a socket costs is local: only a user's first socket on a stream on this instance, and their last, reach
/// the store and the bus (a few commands each); the snapshot a new socket gets is read from memory.
/// </remarks>
internal sealed partial class StreamPresence(
    StreamHub hub, IMessageBus bus, IPresenceStore store, IOptions<PresenceOptions> options, TimeProvider time, ILogger<StreamPresence> logger)
    : BackgroundService
{
    private const string PresenceKind = "$presence";

    private readonly ConcurrentDictionary<StreamId, Tracked> _streams = new();

    /// <summary>Whether presence is on (<c>WebSockets:Presence:Enabled</c>).</summary>
    public bool Enabled => options.Value.Enabled;

    /// <summary>This instance, as the others know it.</summary>
    public string Instance { get; } = Guid.NewGuid().ToString("N");

    /// <summary>
    /// <paramref name="connection"/> is on <paramref name="stream"/>: the others learn of its user if this is the user's
    /// first socket there, and the socket gets who is online (<c>presence</c>).
    /// </summary>
    public async Task JoinAsync(StreamId stream, RealtimeConnection connection, CancellationToken cancellationToken)
    {
        var user = new PresenceUser(connection.Identity.UserId, connection.Identity.UserName);
        var tracked = await EnterAsync(stream, cancellationToken);
        try
        {
            if (!tracked.Watching)
            {
                await WatchAsync(tracked, cancellationToken);
            }

            bool wasOnline, firstHere;
            lock (tracked.Gate)
            {
                wasOnline = tracked.IsOnline(user.Id);
                firstHere = tracked.AddLocal(user);
            }

            if (firstHere)
            {
                await AnnounceAsync(tracked, user, present: true);
            }

            if (!wasOnline)
            {
                Emit(stream, new PresenceChange("presence.joined", user), except: connection.Id);
            }

            PresenceUser[] online;
            lock (tracked.Gate)
            {
                online = tracked.Online();
            }

            connection.TrySend(JsonSerializer.SerializeToUtf8Bytes(new PresenceSnapshot(online), PresenceJsonContext.Default.PresenceSnapshot));
        }
        finally
        {
            tracked.Lifecycle.Release();
        }
    }

    /// <summary><paramref name="connection"/> left <paramref name="stream"/>: if it was its user's last socket anywhere, everyone is told.</summary>
    public async Task LeaveAsync(StreamId stream, RealtimeConnection connection)
    {
        if (!_streams.TryGetValue(stream, out var tracked))
        {
            return;
        }

        await tracked.Lifecycle.WaitAsync(CancellationToken.None);
        try
        {
            if (tracked.Removed)
            {
                return;
            }

            var userId = connection.Identity.UserId;
            bool lastHere, stillOnline, nobodyHere;
            PresenceUser? user;
            lock (tracked.Gate)
            {
                lastHere = tracked.RemoveLocal(userId, out user);
                stillOnline = tracked.IsOnline(userId);
                nobodyHere = tracked.LocalCount == 0;
            }

            if (lastHere && user is not null)
            {
                await AnnounceAsync(tracked, user, present: false);
                if (!stillOnline)
                {
                    Emit(stream, new PresenceChange("presence.left", user), except: null);
                }
            }

            if (nobodyHere)
            {
                await UnwatchAsync(tracked);
            }
        }
        finally
        {
            tracked.Lifecycle.Release();
        }
    }

    /// <summary>After Redis restarted empty: writes this instance's records back and reads everyone else's again.</summary>
    public async Task RebuildAsync(CancellationToken cancellationToken)
    {
        await RenewAsync(rewrite: true, cancellationToken);
        await ReconcileAllAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RenewInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    // Written anew each time, not only kept alive: a Redis that restarted empty has them back within
                    // an interval, whatever became of the recovery's own rebuild. One HSET per stream and instance.
                    await RenewAsync(rewrite: true, stoppingToken);
                    await ReconcileAllAsync(stoppingToken);
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    Log.RenewFailed(logger, exception);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The application is stopping.
        }
    }

    private async Task<Tracked> EnterAsync(StreamId stream, CancellationToken cancellationToken)
    {
        while (true)
        {
            var tracked = _streams.GetOrAdd(stream, key => new Tracked(key, new StreamId(PresenceKind, "", key), this));
            await tracked.Lifecycle.WaitAsync(cancellationToken);
            if (!tracked.Removed)
            {
                return tracked;
            }

            // Its last socket here left meanwhile and the entry went with it: take the new one.
            tracked.Lifecycle.Release();
        }
    }

    private async Task WatchAsync(Tracked tracked, CancellationToken cancellationToken)
    {
        hub.Add(tracked.Changes, tracked);
        await bus.SubscribeAsync(tracked.Changes, cancellationToken);
        tracked.Watching = true;
        var others = await ReadOthersAsync(tracked.Stream, cancellationToken);
        lock (tracked.Gate)
        {
            tracked.ReplaceOthers(others);
        }
    }

    private async Task UnwatchAsync(Tracked tracked)
    {
        tracked.Removed = true;
        _streams.TryRemove(new KeyValuePair<StreamId, Tracked>(tracked.Stream, tracked));
        if (tracked.Watching)
        {
            hub.Remove(tracked.Changes, tracked);
            await bus.UnsubscribeAsync(tracked.Changes, CancellationToken.None);
        }
    }

    /// <summary>Records the change and tells the other instances; a store or bus that fails is logged: the next renewal repairs it.</summary>
    private async Task AnnounceAsync(Tracked tracked, PresenceUser user, bool present)
    {
        try
        {
            await store.SetAsync(Instance, tracked.Stream, user, present, CancellationToken.None);
            var change = new InstanceChange(Instance, user, present);
            await bus.PublishAsync(new StreamMessage(tracked.Changes, StreamPublisher.NotStored,
                JsonSerializer.SerializeToUtf8Bytes(change, PresenceJsonContext.Default.InstanceChange)));
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            Log.AnnounceFailed(logger, exception, tracked.Stream.Name);
        }
    }

    private async Task<IReadOnlyDictionary<string, PresenceUser[]>> ReadOthersAsync(StreamId stream, CancellationToken cancellationToken)
    {
        try
        {
            return await store.ReadOthersAsync(Instance, stream, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // Unreachable for now (Redis down): this instance's own users are shown; the next renewal reads again.
            Log.ReadFailed(logger, exception, stream.Name);
            return new Dictionary<string, PresenceUser[]>();
        }
    }

    private async Task RenewAsync(bool rewrite, CancellationToken cancellationToken)
    {
        var local = new Dictionary<StreamId, PresenceUser[]>();
        foreach (var tracked in _streams.Values)
        {
            lock (tracked.Gate)
            {
                if (tracked.LocalCount > 0)
                {
                    local[tracked.Stream] = tracked.LocalUsers();
                }
            }
        }

        if (local.Count > 0)
        {
            await store.RenewAsync(Instance, local, rewrite, cancellationToken);
        }
    }

    /// <summary>Reads the others' records of every watched stream again and tells the local sockets who came and went meanwhile.</summary>
    private async Task ReconcileAllAsync(CancellationToken cancellationToken)
    {
        foreach (var tracked in _streams.Values)
        {
            if (!tracked.Watching || tracked.Removed)
            {
                continue;
            }

            var others = await store.ReadOthersAsync(Instance, tracked.Stream, cancellationToken);
            List<(string Type, PresenceUser User)> changes;
            lock (tracked.Gate)
            {
                changes = tracked.ReplaceOthers(others);
            }

            foreach (var (type, user) in changes)
            {
                Emit(tracked.Stream, new PresenceChange(type, user), except: null);
            }
        }
    }

    /// <summary>Another instance's change, heard on the bus.</summary>
    private void Heard(Tracked tracked, StreamMessage message)
    {
        InstanceChange? change;
        try
        {
            change = JsonSerializer.Deserialize(message.Frame.Span, PresenceJsonContext.Default.InstanceChange);
        }
        catch (JsonException)
        {
            return;
        }

        if (change is null || change.Instance == Instance)
        {
            return;
        }

        bool wasOnline, isOnline;
        lock (tracked.Gate)
        {
            wasOnline = tracked.IsOnline(change.User.Id);
            tracked.SetOther(change.Instance, change.User, change.Present);
            isOnline = tracked.IsOnline(change.User.Id);
        }

        if (wasOnline != isOnline)
        {
            Emit(tracked.Stream, new PresenceChange(isOnline ? "presence.joined" : "presence.left", change.User), except: null);
        }
    }

    /// <summary>Tells this instance's sockets on <paramref name="stream"/>: each instance tells its own.</summary>
    private void Emit(StreamId stream, PresenceChange change, string? except) =>
        hub.Deliver(new StreamMessage(stream, StreamPublisher.NotStored,
            JsonSerializer.SerializeToUtf8Bytes(change, PresenceJsonContext.Default.PresenceChange)) { ExceptConnection = except });

    /// <summary>One stream's presence on this instance: its own users (with their socket counts) and the others'.</summary>
    private sealed class Tracked(StreamId stream, StreamId changes, StreamPresence presence) : IStreamSubscriber
    {
        private readonly Dictionary<Guid, (PresenceUser User, int Sockets)> _local = [];
        private Dictionary<string, Dictionary<Guid, PresenceUser>> _others = [];

        public StreamId Stream { get; } = stream;

        /// <summary>The stream the instances' changes travel on, under <see cref="Stream"/>.</summary>
        public StreamId Changes { get; } = changes;

        public Lock Gate { get; } = new();

        /// <summary>Serializes the joins and leaves of the stream, whose store and bus work is awaited.</summary>
        public SemaphoreSlim Lifecycle { get; } = new(1, 1);

        public bool Watching { get; set; }

        public bool Removed { get; set; }

        public int LocalCount => _local.Count;

        public void Offer(StreamMessage message) => presence.Heard(this, message);

        public bool IsOnline(Guid userId) => _local.ContainsKey(userId) || _others.Values.Any(users => users.ContainsKey(userId));

        /// <summary>True when it is the user's first socket here.</summary>
        public bool AddLocal(PresenceUser user)
        {
            var first = !_local.TryGetValue(user.Id, out var known);
            _local[user.Id] = (user, known.Sockets + 1);
            return first;
        }

        /// <summary>True when it was the user's last socket here.</summary>
        public bool RemoveLocal(Guid userId, out PresenceUser? user)
        {
            user = null;
            if (!_local.TryGetValue(userId, out var known))
            {
                return false;
            }

            user = known.User;
            if (known.Sockets > 1)
            {
                _local[userId] = (known.User, known.Sockets - 1);
                return false;
            }

            _local.Remove(userId);
            return true;
        }

        public PresenceUser[] LocalUsers() => [.. _local.Values.Select(local => local.User)];

        public void SetOther(string instance, PresenceUser user, bool present)
        {
            if (present)
            {
                if (!_others.TryGetValue(instance, out var users))
                {
                    _others[instance] = users = [];
                }

                users[user.Id] = user;
            }
            else if (_others.TryGetValue(instance, out var users) && users.Remove(user.Id) && users.Count == 0)
            {
                _others.Remove(instance);
            }
        }

        /// <summary>Takes <paramref name="others"/> as the other instances' users; returns who came and who went.</summary>
        public List<(string Type, PresenceUser User)> ReplaceOthers(IReadOnlyDictionary<string, PresenceUser[]> others)
        {
            var before = Online().ToDictionary(user => user.Id);
            _others = others.ToDictionary(pair => pair.Key, pair => pair.Value.ToDictionary(user => user.Id));
            var after = Online().ToDictionary(user => user.Id);
            var changes = new List<(string, PresenceUser)>();
            changes.AddRange(after.Values.Where(user => !before.ContainsKey(user.Id)).Select(user => ("presence.joined", user)));
            changes.AddRange(before.Values.Where(user => !after.ContainsKey(user.Id)).Select(user => ("presence.left", user)));
            return changes;
        }

        /// <summary>Everyone online on the stream, each once.</summary>
        public PresenceUser[] Online()
        {
            var online = new Dictionary<Guid, PresenceUser>();
            foreach (var (user, _) in _local.Values)
            {
                online[user.Id] = user;
            }

            foreach (var users in _others.Values)
            {
                foreach (var user in users.Values)
                {
                    online.TryAdd(user.Id, user);
                }
            }

            return [.. online.Values];
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Could not tell the other instances of a presence change on stream {Stream}; the next renewal repairs it")]
        public static partial void AnnounceFailed(ILogger logger, Exception exception, string stream);

        [LoggerMessage(2, LogLevel.Warning, "Could not read the other instances' presence on stream {Stream}; showing this instance's users until the next renewal")]
        public static partial void ReadFailed(ILogger logger, Exception exception, string stream);

        [LoggerMessage(3, LogLevel.Warning, "Renewing this instance's presence records failed; trying again at the next interval")]
        public static partial void RenewFailed(ILogger logger, Exception exception);
    }
}

/// <summary><c>{"type":"presence","members":[{"id","username"}]}</c>: who is online, sent to a socket when it joins.</summary>
internal sealed record PresenceSnapshot(PresenceUser[] Members)
{
    [JsonPropertyOrder(-1)]
    public string Type => "presence";
}

/// <summary><c>{"type":"presence.joined"|"presence.left","user":{"id","username"}}</c>.</summary>
internal sealed record PresenceChange(string Type, PresenceUser User);

/// <summary>What one instance tells the others: it now has, or no longer has, a user on the stream.</summary>
internal sealed record InstanceChange(string Instance, PresenceUser User, bool Present);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PresenceSnapshot))]
[JsonSerializable(typeof(PresenceChange))]
[JsonSerializable(typeof(InstanceChange))]
internal sealed partial class PresenceJsonContext : JsonSerializerContext;

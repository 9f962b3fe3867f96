using System.Buffers.Binary;
using System.Text;
using StackExchange.Redis;

namespace Company.RealtimeApp1.WebSockets.Redis;

/// <summary>
/// Carries stream messages between instances over Redis pub/sub, one channel per stream. The callers
/// subscribe once per socket; this bus counts them, so Redis sees one subscription per active stream per
/// instance: the first local subscriber subscribes, the last one to leave unsubscribes. Each message
/// travels once, as its stream, its id and its frame (<see cref="RedisStreamEnvelope"/>), and every
/// instance subscribed to the stream, this one included, hands it to its local hub. While Redis is
/// unreachable a publish is skipped at once rather than left to wait out the client's timeouts: a stored
/// message is read from the store when Redis returns (<see cref="RedisOutageRecovery"/>), so the caller
/// neither waits nor fails.
/// </summary>
internal sealed partial class RedisMessageBus(IConnectionMultiplexer redis, StreamHub hub, ILogger<RedisMessageBus> logger)
    : IMessageBus, IAsyncDisposable
{
    /// <summary>The prefix of every stream's channel, so the app's channels stay apart from anything else on the server.</summary>
    public const string ChannelPrefix = "realtime:";

    private readonly Lock _gate = new();
    private readonly Dictionary<StreamId, Subscription> _subscriptions = [];

    // Per stream, the newest stored message that could not be published: sent when Redis is back.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<StreamId, StreamMessage> _unsent = new();

    /// <summary>The id of a probe (<see cref="ProbeAsync"/>), which no stored or unstored message has.</summary>
    private const long ProbeId = -1;

    /// <summary>What this instance's probes carry, so that it tells its own from the other instances'.</summary>
    private readonly byte[] _probeFrame = Guid.NewGuid().ToByteArray();

    public static RedisChannel ChannelFor(StreamId stream) => RedisChannel.Literal(ChannelPrefix + stream.Name);

    public bool MayLoseMessages => true;

    public async ValueTask PublishAsync(StreamMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (!await PublishEnvelopeAsync(message.Stream, RedisStreamEnvelope.Write(message)) && message.Id != StreamPublisher.NotStored)
        {
            _unsent.AddOrUpdate(message.Stream, message, (_, known) => known.Id >= message.Id ? known : message);
        }
    }

    /// <summary>
    /// Publishes, per stream, the newest stored message that could not be published while Redis was away: a
    /// subscriber on another instance that caught up before it was stored sees the gap it leaves, and fills it.
    /// Returns how many streams had one.
    /// </summary>
    internal async Task<int> RepublishUnsentAsync()
    {
        var republished = 0;
        foreach (var (stream, message) in _unsent.ToArray())
        {
            if (await PublishEnvelopeAsync(stream, RedisStreamEnvelope.Write(message)))
            {
                _unsent.TryRemove(new KeyValuePair<StreamId, StreamMessage>(stream, message));
                republished++;
            }
        }

        return republished;
    }

    /// <summary>
    /// Waits until each of this instance's subscriptions hears again: a probe published on its channel comes
    /// back. StackExchange.Redis resubscribes by itself after a reconnect; from the probe on, whatever is
    /// published on the stream reaches this instance, so a catch-up read from the store after it leaves no gap.
    /// False when some did not hear within <paramref name="timeout"/>.
    /// </summary>
    internal async Task<bool> ProbeAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        Subscription[] all;
        lock (_gate)
        {
            all = [.. _subscriptions.Values.Where(s => s.Ready.IsCompletedSuccessfully)];
        }

        var heard = await Task.WhenAll(all.Select(subscription => subscription.ProbeAsync(timeout, cancellationToken)));
        return heard.All(h => h);
    }

    public async ValueTask SubscribeAsync(StreamId stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Subscription subscription;
        lock (_gate)
        {
            // Counted before the wait: a caller whose wait is cancelled still unsubscribes, and must find its count.
            if (!_subscriptions.TryGetValue(stream, out subscription!) || subscription.Failed)
            {
                var count = subscription?.Count ?? 0;
                subscription = new Subscription(stream, this) { Count = count };
                _subscriptions[stream] = subscription;
                subscription.Start(redis.GetSubscriber());
            }

            subscription.Count++;
        }

        await subscription.Ready.WaitAsync(cancellationToken);
    }

    public async ValueTask UnsubscribeAsync(StreamId stream, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Subscription? leaving = null;
        lock (_gate)
        {
            if (_subscriptions.TryGetValue(stream, out var subscription) && --subscription.Count == 0)
            {
                _subscriptions.Remove(stream);
                leaving = subscription;
            }
        }

        if (leaving is not null)
        {
            await leaving.StopAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        Subscription[] all;
        lock (_gate)
        {
            all = [.. _subscriptions.Values];
            _subscriptions.Clear();
        }

        foreach (var subscription in all)
        {
            await subscription.StopAsync();
        }
    }

    private bool IsCurrent(Subscription subscription)
    {
        lock (_gate)
        {
            return _subscriptions.TryGetValue(subscription.Stream, out var current) && ReferenceEquals(current, subscription);
        }
    }

    /// <summary>True once Redis took the message; false when it could not be sent (Redis unreachable).</summary>
    private async Task<bool> PublishEnvelopeAsync(StreamId stream, byte[] envelope)
    {
        if (!redis.IsConnected)
        {
            Log.NotPublished(logger, stream.Name, "not connected");
            return false;
        }

        try
        {
            await redis.GetSubscriber().PublishAsync(ChannelFor(stream), envelope);
            return true;
        }
        catch (Exception exception) when (exception is RedisConnectionException or RedisTimeoutException)
        {
            // The outage is logged once by RedisOutageRecovery, not once per message; a probe just tries again.
            Log.NotPublished(logger, stream.Name, exception.GetType().Name);
            return false;
        }
    }

    private void UnsubscribeFailed(StreamId stream, Exception exception) => Log.UnsubscribeFailed(logger, stream.Name, exception.GetType().Name);

    private void Receive(Subscription subscription, ChannelMessage message)
    {
        // A subscription that is leaving while a new one for the same stream starts would deliver twice.
        if (!IsCurrent(subscription))
        {
            return;
        }

        // The envelope names its stream, checked against the subscription's: the stream itself is the subscription's, never read back.
        if (!RedisStreamEnvelope.TryRead(message.Message, subscription.Stream, out var received))
        {
            Log.Unreadable(logger, subscription.Stream.Name);
            return;
        }

        if (received.Id == ProbeId)
        {
            // Another instance's probe says nothing to this one.
            if (received.Frame.Span.SequenceEqual(_probeFrame))
            {
                subscription.Heard();
            }

            return;
        }

        hub.Deliver(received);
    }

    /// <summary>This instance's one Redis subscription to one stream, and how many local subscribers share it.</summary>
    private sealed class Subscription(StreamId stream, RedisMessageBus bus)
    {
        private static readonly TimeSpan ConfirmTimeout = TimeSpan.FromSeconds(2);
        private static readonly TimeSpan ProbeInterval = TimeSpan.FromMilliseconds(250);

        private Task<ChannelMessageQueue>? _queue;
        private TaskCompletionSource? _probe;

        public StreamId Stream { get; } = stream;

        public int Count { get; set; }

        public Task Ready => _queue!;

        public bool Failed => _queue is { IsFaulted: true } or { IsCanceled: true };

        public void Start(ISubscriber subscriber) => _queue = StartCoreAsync(subscriber);

        public async Task StopAsync()
        {
            try
            {
                var queue = await _queue!;
                await queue.UnsubscribeAsync();
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException or ObjectDisposedException)
            {
                // Never subscribed, Redis is gone, or the app already closed its connection while stopping:
                // either way nothing is left to receive on this instance.
                bus.UnsubscribeFailed(Stream, exception);
            }
        }

        public void Heard() => Volatile.Read(ref _probe)?.TrySetResult();

        /// <summary>Publishes a probe every <see cref="ProbeInterval"/> until one comes back or <paramref name="timeout"/> passes.</summary>
        public async Task<bool> ProbeAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            var probe = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Volatile.Write(ref _probe, probe);
            var envelope = RedisStreamEnvelope.Write(new StreamMessage(Stream, ProbeId, bus._probeFrame));
            var deadline = DateTime.UtcNow + timeout;
            while (!probe.Task.IsCompleted && DateTime.UtcNow < deadline)
            {
                await bus.PublishEnvelopeAsync(Stream, envelope);
                await Task.WhenAny(probe.Task, Task.Delay(ProbeInterval, cancellationToken));
                cancellationToken.ThrowIfCancellationRequested();
            }

            return probe.Task.IsCompleted;
        }

        private async Task<ChannelMessageQueue> StartCoreAsync(ISubscriber subscriber)
        {
            // Registered with the multiplexer at once, and fired without waiting: a subscription made while
            // Redis is down (at start-up, say) is sent, like every other, when the connection returns. Awaiting
            // a SUBSCRIBE that fails would leave its queue registered but lost to us, filling with no reader.
            var queue = await subscriber.SubscribeAsync(ChannelFor(Stream), CommandFlags.FireAndForget);
            // A queue hands its messages over one at a time, in the order Redis sent them.
            queue.OnMessage(message => bus.Receive(this, message));
            await ConfirmAsync(subscriber);
            return queue;
        }

        /// <summary>
        /// Returns once Redis has processed the SUBSCRIBE (a PING answered on the subscription's connection
        /// follows it), so that what is published after a join reaches it; at once while Redis is unreachable.
        /// </summary>
        private async Task ConfirmAsync(ISubscriber subscriber)
        {
            if (!subscriber.IsConnected(ChannelFor(Stream)))
            {
                return;
            }

            try
            {
                await subscriber.PingAsync().WaitAsync(ConfirmTimeout);
            }
            catch (Exception exception) when (exception is RedisException or TimeoutException)
            {
                // Redis went away meanwhile: the multiplexer subscribes again when it returns.
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Dropped a message on stream {Stream} that is not a stream envelope")]
        public static partial void Unreadable(ILogger logger, string stream);

        [LoggerMessage(2, LogLevel.Debug, "Could not unsubscribe from stream {Stream}: {Failure}")]
        public static partial void UnsubscribeFailed(ILogger logger, string stream, string failure);

        [LoggerMessage(3, LogLevel.Debug, "Did not publish on stream {Stream} while Redis is unreachable: {Failure}")]
        public static partial void NotPublished(ILogger logger, string stream, string failure);
    }
}

/// <summary>
/// How a stream message travels over Redis, serialized once: its id (8 bytes, big-endian), the length of its
/// stream's name (4 bytes), the name (UTF-8), the length of the connection it is not for (4 bytes, 0 for none)
/// and that connection's id (UTF-8), then the frame as every recipient gets it.
/// </summary>
internal static class RedisStreamEnvelope
{
    private const int HeaderLength = sizeof(long) + sizeof(int);

    public static byte[] Write(StreamMessage message)
    {
        var name = message.Stream.Name;
        var except = message.ExceptConnection ?? "";
        var streamLength = Encoding.UTF8.GetByteCount(name);
        var exceptLength = Encoding.UTF8.GetByteCount(except);
        var envelope = new byte[HeaderLength + streamLength + sizeof(int) + exceptLength + message.Frame.Length];
        BinaryPrimitives.WriteInt64BigEndian(envelope, message.Id);
        BinaryPrimitives.WriteInt32BigEndian(envelope.AsSpan(sizeof(long)), streamLength);
        var rest = envelope.AsSpan(HeaderLength);
        Encoding.UTF8.GetBytes(name, rest);
        rest = rest[streamLength..];
        BinaryPrimitives.WriteInt32BigEndian(rest, exceptLength);
        Encoding.UTF8.GetBytes(except, rest[sizeof(int)..]);
        message.Frame.Span.CopyTo(rest[(sizeof(int) + exceptLength)..]);
        return envelope;
    }

    /// <summary>The message in <paramref name="value"/>, if it is an envelope of <paramref name="stream"/>'s.</summary>
    public static bool TryRead(RedisValue value, StreamId stream, out StreamMessage message)
    {
        message = null!;
        var envelope = (byte[]?)value;
        if (envelope is null || envelope.Length < HeaderLength)
        {
            return false;
        }

        var id = BinaryPrimitives.ReadInt64BigEndian(envelope);
        var streamLength = BinaryPrimitives.ReadInt32BigEndian(envelope.AsSpan(sizeof(long)));
        if (streamLength < 0 || streamLength > envelope.Length - HeaderLength - sizeof(int)
            || !IsName(envelope.AsSpan(HeaderLength, streamLength), stream.Name))
        {
            return false;
        }

        var exceptAt = HeaderLength + streamLength;
        var exceptLength = BinaryPrimitives.ReadInt32BigEndian(envelope.AsSpan(exceptAt));
        if (exceptLength < 0 || exceptLength > envelope.Length - exceptAt - sizeof(int))
        {
            return false;
        }

        var frameAt = exceptAt + sizeof(int) + exceptLength;
        message = new StreamMessage(stream, id, envelope.AsMemory(frameAt))
        {
            ExceptConnection = exceptLength == 0 ? null : Encoding.UTF8.GetString(envelope, exceptAt + sizeof(int), exceptLength),
        };
        return true;
    }

    private static bool IsName(ReadOnlySpan<byte> utf8, string name)
    {
        var length = Encoding.UTF8.GetByteCount(name);
        if (length != utf8.Length)
        {
            return false;
        }

        var buffer = length <= 256 ? stackalloc byte[length] : new byte[length];
        Encoding.UTF8.GetBytes(name, buffer);
        return buffer.SequenceEqual(utf8);
    }
}

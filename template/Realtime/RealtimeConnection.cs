using System.Net.WebSockets;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Tasks.Sources;

namespace Company.RealtimeApp1.Realtime;

/// <summary>
/// One open socket and its single writer. Anything may call <see cref="TrySend"/> from any thread; the
/// frames wait in a queue bounded in messages and in bytes, and one loop writes them in order. A client
/// that lets the queue fill is closed with 1008 rather than allowed to grow the server's memory.
/// </summary>
public sealed partial class RealtimeConnection
{
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);

    private readonly WebSocket _socket;
    private readonly int _maxQueuedMessages;
    private readonly int _maxQueuedBytes;
    private readonly ILogger _logger;
    private readonly RealtimeMetrics _metrics;

    // A plain queue and one reusable wake-up rather than a bounded Channel: an idle socket keeps about
    // 0.9 KB less, and the send loop still waits without allocating. Locking _outbound guards the queue
    // and the fields after it.
    private readonly Queue<ReadOnlyMemory<byte>> _outbound = new();
    private readonly WakeUp _frameQueued = new();
    private long _queuedBytes;
    private bool _sendLoopWaiting;
    private bool _closeRequested;
    private WebSocketCloseStatus _closeStatus = WebSocketCloseStatus.NormalClosure;
    private string _closeReason = "";

    private volatile bool _ended;

    internal RealtimeConnection(WebSocket socket, ClaimsPrincipal user, RealtimeOptions options, RealtimeMetrics metrics, ILogger logger)
    {
        _socket = socket;
        _metrics = metrics;
        _maxQueuedMessages = options.OutboundQueueMessages;
        _maxQueuedBytes = options.OutboundQueueBytes;
        _logger = logger;
        User = user;
        Identity = ConnectionIdentity.From(user);
    }

    /// <summary>Unique per socket; logged, never secret.</summary>
    public string Id { get; } = Guid.NewGuid().ToString("N");

    public ClaimsPrincipal User { get; private set; }

    public ConnectionIdentity Identity { get; private set; }

    /// <summary>The streams this connection has joined.</summary>
    public IReadOnlyList<string> Streams => _streams;

    private volatile string[] _streams = [];

    /// <summary>Whether the client was already told its token is about to expire.</summary>
    internal bool ExpiryWarned { get; set; }

    internal void AddStream(string stream) => _streams = [.. _streams, stream];

    /// <summary>Continues the connection under a newer access token of the same user (<c>auth.refresh</c>).</summary>
    internal void Refresh(ClaimsPrincipal user)
    {
        User = user;
        Identity = ConnectionIdentity.From(user);
        ExpiryWarned = false;
    }

    /// <summary>Cancelled when the connection starts closing, whoever closed it.</summary>
    public CancellationToken Closing => _closingSource.Token;

    private readonly CancellationTokenSource _closingSource = new();

    /// <summary>Queues a serialized text frame; false when the connection is closing or its queue overflowed.</summary>
    public bool TrySend(ReadOnlyMemory<byte> frame)
    {
        bool queued, wake;
        lock (_outbound)
        {
            if (_closeRequested)
            {
                return false;
            }

            queued = _outbound.Count < _maxQueuedMessages && _queuedBytes + frame.Length <= _maxQueuedBytes;
            if (queued)
            {
                _outbound.Enqueue(frame);
                _queuedBytes += frame.Length;
            }

            wake = queued && _sendLoopWaiting;
            if (wake)
            {
                _sendLoopWaiting = false;
            }
        }

        if (wake)
        {
            _frameQueued.Set();
        }

        if (!queued)
        {
            Log.SlowConsumer(_logger, Id);
            Close(WebSocketCloseStatus.PolicyViolation, "slow consumer", discardQueued: true);
        }

        return queued;
    }

    public bool TrySend<T>(T message, JsonTypeInfo<T> typeInfo) =>
        TrySend(JsonSerializer.SerializeToUtf8Bytes(message, typeInfo));

    /// <summary>
    /// Closes after the frames already queued (or at once, dropping them, when <paramref name="discardQueued"/>).
    /// Only the first close counts.
    /// </summary>
    public void Close(WebSocketCloseStatus status, string reason, bool discardQueued = false)
    {
        bool wake;
        lock (_outbound)
        {
            if (_closeRequested)
            {
                return;
            }

            _closeRequested = true;
            _closeStatus = status;
            _closeReason = reason;
            if (discardQueued)
            {
                _outbound.Clear();
                _queuedBytes = 0;
            }

            wake = _sendLoopWaiting;
            _sendLoopWaiting = false;
        }

        if (wake)
        {
            _frameQueued.Set();
        }

        // Once either side starts closing, the close handshake gets a few seconds; a client that does not
        // answer it, or does not read at all, is then cut off rather than kept forever. Started here
        // rather than from a registration on Closing, which every idle socket would carry.
        _ = CutOffWhenStuckAsync();
        _closingSource.Cancel();
    }

    /// <summary>Called by the host once the receive and send loops have both ended.</summary>
    internal void Ended() => _ended = true;

    private async Task CutOffWhenStuckAsync()
    {
        await Task.Delay(CloseHandshakeTimeout);
        if (!_ended)
        {
            _socket.Abort();
        }
    }

    public void Close(int status, string reason) => Close((WebSocketCloseStatus)status, reason);

    /// <summary>Writes queued frames until the connection closes, then the close frame.</summary>
    internal async Task SendLoopAsync()
    {
        try
        {
            while (true)
            {
                ReadOnlyMemory<byte> frame;
                bool wait;
                lock (_outbound)
                {
                    wait = !_outbound.TryDequeue(out frame);
                    if (!wait)
                    {
                        _queuedBytes -= frame.Length;
                    }
                    else if (_closeRequested)
                    {
                        break;
                    }
                    else
                    {
                        _frameQueued.Reset();
                        _sendLoopWaiting = true;
                    }
                }

                if (wait)
                {
                    await _frameQueued.WaitAsync();
                    continue;
                }

                await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                _metrics.MessagesSent(1);
            }

            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(CloseTimeout);
                await _socket.CloseOutputAsync(_closeStatus, _closeReason, timeout.Token);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer went away or would not take the close frame in time: nothing left to tell it.
            _socket.Abort();
        }
    }

    /// <summary>The socket itself, for the receive loop; everything else writes through <see cref="TrySend"/>.</summary>
    internal WebSocket Socket => _socket;

    /// <summary>
    /// The send loop's wait for a frame: reset and awaited by the loop alone, set by whoever queues the
    /// frame (or closes) while the loop waits. One object per connection, reused for every wait.
    /// </summary>
    private sealed class WakeUp : IValueTaskSource
    {
        private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };

        public void Reset() => _core.Reset();

        public void Set() => _core.SetResult(true);

        public ValueTask WaitAsync() => new(this, _core.Version);

        void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

        ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _core.GetStatus(token);

        void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Connection {ConnectionId} does not read fast enough; closing it")]
        public static partial void SlowConsumer(ILogger logger, string connectionId);
    }
}

/// <summary>Who is on the other end, read once from the access token.</summary>
public readonly record struct ConnectionIdentity(Guid UserId, string UserName, DateTimeOffset ExpiresAt)
{
    public static ConnectionIdentity From(ClaimsPrincipal user)
    {
        _ = Guid.TryParse(user.FindFirstValue(Auth.TokenClaims.Subject), out var userId);
        var expires = long.TryParse(user.FindFirstValue("exp"), out var exp)
            ? DateTimeOffset.FromUnixTimeSeconds(exp)
            : DateTimeOffset.MaxValue;
        return new ConnectionIdentity(userId, user.FindFirstValue(Auth.TokenClaims.Name) ?? "", expires);
    }
}

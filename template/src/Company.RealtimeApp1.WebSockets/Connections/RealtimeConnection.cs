using System.Net.WebSockets;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// One open socket and its single writer. Anything may call <see cref="TrySend"/> from any thread; one
/// thread at a time writes, in order. A frame for a socket that is not busy is written at once by the
/// caller; while a send is in flight, frames wait in a queue bounded in messages and in bytes, and the
/// thread that finishes the send writes them. A client that lets the queue fill is closed with 1008
/// rather than allowed to grow the server's memory, and it never holds up a caller or other sockets.
/// </summary>
public sealed partial class RealtimeConnection
{
    private readonly WebSocket _socket;
    private readonly int _maxQueuedMessages;
    private readonly int _maxQueuedBytes;
    private readonly ILogger _logger;
    private readonly RealtimeMetrics _metrics;
    private readonly TaskCompletionSource _sent = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // The frames waiting while a send is in flight, and what they add up to; guarded by _gate.
    private readonly Lock _gate = new();
    private Queue<ReadOnlyMemory<byte>>? _queue;
    private long _queuedBytes;

    // How many frames wait, readable without the gate: none means a frame may be written at once.
    private int _queuedMessages;

    // 1 while one thread is the socket's writer (sending, or about to); from the start until SendLoopAsync.
    private int _writing = 1;
    private int _closeRequested;
    private volatile bool _discardQueued;
    private WebSocketCloseStatus _closeStatus = WebSocketCloseStatus.NormalClosure;
    private int _closeStatusChosen;
    private string _closeReason = "";

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
    public IReadOnlyList<StreamId> Streams => _streams;

    private volatile StreamId[] _streams = [];

    /// <summary>Whether the client was already told its token is about to expire.</summary>
    internal bool ExpiryWarned { get; set; }

    /// <summary>Whether the connection holds a lease on its user's count (<see cref="IConnectionLeases"/>), to renew and release.</summary>
    internal volatile bool Leased;

    internal void AddStream(StreamId stream) => _streams = [.. _streams, stream];

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

    /// <summary>
    /// Sends a serialized text frame, or queues it behind the frames waiting; false when the connection is
    /// closing or its queue overflowed. A socket with nothing queued and no send in flight is written at
    /// once, on the caller's thread: a send that completes synchronously (Kestrel copies the frame into its
    /// output pipe) costs no thread hop and no queueing. One that does not complete (the client reads
    /// slowly) is awaited by that socket's writer on the thread pool, never by the caller, and the frames
    /// sent meanwhile wait in the bounded queue.
    /// </summary>
    public bool TrySend(ReadOnlyMemory<byte> frame)
    {
        if (Volatile.Read(ref _closeRequested) != 0)
        {
            return false;
        }

        // Holding the writer with nothing queued: every earlier frame has been written, so this one may go now.
        var writer = Interlocked.CompareExchange(ref _writing, 1, 0) == 0;
        if (writer && Volatile.Read(ref _queuedMessages) == 0)
        {
            _ = WriteAsync(frame, hasFirst: true);
            return true;
        }

        var queued = TryEnqueue(frame);
        // The frame is queued before the writer is looked for again: either the writer that is finishing
        // sees it, or this thread becomes the writer and sends it.
        if (writer || Interlocked.CompareExchange(ref _writing, 1, 0) == 0)
        {
            _ = WriteAsync(default, hasFirst: false);
        }

        return queued;
    }

    public bool TrySend<T>(T message, JsonTypeInfo<T> typeInfo) =>
        TrySend(JsonSerializer.SerializeToUtf8Bytes(message, typeInfo));

    private bool TryEnqueue(ReadOnlyMemory<byte> frame)
    {
        lock (_gate)
        {
            var queue = _queue ??= new Queue<ReadOnlyMemory<byte>>();
            if (queue.Count < _maxQueuedMessages && _queuedBytes + frame.Length <= _maxQueuedBytes)
            {
                queue.Enqueue(frame);
                _queuedBytes += frame.Length;
                Volatile.Write(ref _queuedMessages, queue.Count);
                return true;
            }
        }

        Log.SlowConsumer(_logger, Id);
        Close(WebSocketCloseStatus.PolicyViolation, "slow consumer", discardQueued: true);
        return false;
    }

    private bool TryDequeue(out ReadOnlyMemory<byte> frame)
    {
        lock (_gate)
        {
            if (_queue is { Count: > 0 } queue)
            {
                frame = queue.Dequeue();
                _queuedBytes -= frame.Length;
                Volatile.Write(ref _queuedMessages, queue.Count);
                if (queue.Count == 0 && _queue.EnsureCapacity(0) > ShrinkAbove)
                {
                    // A burst grew the queue; an idle socket does not keep its room.
                    _queue = null;
                }

                return true;
            }
        }

        frame = default;
        return false;
    }

    /// <summary>Frames a queue keeps room for once it is empty again (its array, not a limit).</summary>
    private const int ShrinkAbove = 64;

    /// <summary>
    /// Closes after the frames already queued (or at once, dropping them, when <paramref name="discardQueued"/>).
    /// Only the first close counts.
    /// </summary>
    public void Close(WebSocketCloseStatus status, string reason, bool discardQueued = false)
    {
        if (Interlocked.Exchange(ref _closeRequested, 1) != 0)
        {
            return;
        }

        _closeStatus = status;
        _closeReason = reason;
        _discardQueued = discardQueued;
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            // The server's code, whether or not its frame can still be written: a client that stopped
            // reading is closed 1008 though the frame waits behind a send that never completes.
            Volatile.Write(ref _closeStatusChosen, (int)status);
        }

        _closingSource.Cancel();
        // An idle writer is woken to send the close frame, on the thread pool: the close is not written on
        // the caller's thread (a broadcast that found this socket full, or the receive side whose own
        // failure the framework may still be answering). A busy writer sends it after its current frame.
        if (Interlocked.CompareExchange(ref _writing, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static connection => _ = connection.WriteAsync(default, hasFirst: false), this, preferLocal: false);
        }
    }

    public void Close(int status, string reason, bool discardQueued = false) => Close((WebSocketCloseStatus)status, reason, discardQueued);

    /// <summary>The code the server closed with while the socket was still open, if it did, sent or not.</summary>
    public int? CloseStatusChosen => Volatile.Read(ref _closeStatusChosen) is var chosen and not 0 ? chosen : null;

    /// <summary>
    /// The send side: starts the socket's writer, which until now held the frames queued before the
    /// connection was admitted (the welcome), and completes once the close frame has gone (or the socket
    /// was aborted). A write still waiting on a client that does not read ends when the host aborts the
    /// socket, <see cref="RealtimeOptions.CloseTimeout"/> after the close began.
    /// </summary>
    internal Task SendLoopAsync()
    {
        // The connection was created holding the writer (_writing = 1): nothing is written before this.
        _ = WriteAsync(default, hasFirst: false);
        return _sent.Task;
    }

    /// <summary>
    /// The socket's only writer, run by whoever set <see cref="_writing"/>: <paramref name="first"/> (when
    /// <paramref name="hasFirst"/>), then the queued frames in order, a whole burst per wake-up; then it lets
    /// go, unless the connection is closing, in which case it sends the close frame and keeps hold, so that
    /// nothing is ever written after it. Completes synchronously, allocating nothing, while every send does.
    /// </summary>
    private async Task WriteAsync(ReadOnlyMemory<byte> first, bool hasFirst)
    {
        try
        {
            if (hasFirst)
            {
                await _socket.SendAsync(first, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                _metrics.MessagesSent(1);
            }

            while (true)
            {
                while (TryDequeue(out var frame))
                {
                    if (_discardQueued)
                    {
                        continue;
                    }

                    await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                    _metrics.MessagesSent(1);
                }

                if (Volatile.Read(ref _closeRequested) != 0)
                {
                    break;
                }

                // A full fence: a frame queued or a close requested after this is seen by its own thread's
                // attempt to take the writer; one before it, by the check below.
                Interlocked.Exchange(ref _writing, 0);
                if ((Volatile.Read(ref _queuedMessages) == 0 && Volatile.Read(ref _closeRequested) == 0)
                    || Interlocked.CompareExchange(ref _writing, 1, 0) != 0)
                {
                    return;
                }
            }

            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(_closeStatus, _closeReason, CancellationToken.None);
            }

            _sent.TrySetResult();
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The peer went away or would not take the close frame in time: nothing left to tell it. The
            // writer is kept: nothing more is written.
            _socket.Abort();
            _sent.TrySetResult();
        }
        catch (Exception exception)
        {
            _socket.Abort();
            _sent.TrySetException(exception);
        }
    }

    /// <summary>Whether a thread is the socket's writer now (a send in flight, frames being written, or the close sent).</summary>
    internal bool IsWriting => Volatile.Read(ref _writing) != 0;

    /// <summary>The socket itself, for the receive loop; everything else writes through <see cref="TrySend"/>.</summary>
    internal WebSocket Socket => _socket;

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Connection {ConnectionId} does not read fast enough; closing it")]
        public static partial void SlowConsumer(ILogger logger, string connectionId);
    }
}

/// <summary>Who is on the other end, read once from the access token's registered claims (RFC 7519 §4.1).</summary>
public readonly record struct ConnectionIdentity(Guid UserId, string UserName, DateTimeOffset ExpiresAt)
{
    public static ConnectionIdentity From(ClaimsPrincipal user)
    {
        _ = Guid.TryParse(user.FindFirstValue(JwtRegisteredClaimNames.Sub), out var userId);
        var expires = long.TryParse(user.FindFirstValue(JwtRegisteredClaimNames.Exp), out var exp)
            ? DateTimeOffset.FromUnixTimeSeconds(exp)
            : DateTimeOffset.MaxValue;
        return new ConnectionIdentity(userId, user.FindFirstValue(JwtRegisteredClaimNames.Name) ?? "", expires);
    }
}

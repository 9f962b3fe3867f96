using System.Net.WebSockets;
using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Company.RealtimeApp1.Realtime;

/// <summary>
/// One open socket and its single writer. Anything may call <see cref="TrySend"/> from any thread; the
/// frames wait in a queue bounded in messages and in bytes, and one loop writes them in order. A client
/// that lets the queue fill is closed with 1008 rather than allowed to grow the server's memory.
/// </summary>
public sealed partial class RealtimeConnection
{
    private readonly WebSocket _socket;
    private readonly Channel<ReadOnlyMemory<byte>> _outbound;
    private readonly int _maxQueuedBytes;
    private readonly ILogger _logger;
    private readonly RealtimeMetrics _metrics;
    private long _queuedBytes;
    private int _closeRequested;
    private volatile bool _discardQueued;
    private WebSocketCloseStatus _closeStatus = WebSocketCloseStatus.NormalClosure;
    private string _closeReason = "";

    internal RealtimeConnection(WebSocket socket, ClaimsPrincipal user, RealtimeOptions options, RealtimeMetrics metrics, ILogger logger)
    {
        _socket = socket;
        _metrics = metrics;
        _maxQueuedBytes = options.OutboundQueueBytes;
        _logger = logger;
        _outbound = Channel.CreateBounded<ReadOnlyMemory<byte>>(new BoundedChannelOptions(options.OutboundQueueMessages)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,
        });
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

    /// <summary>Whether the connection holds a lease on its user's count (<see cref="IConnectionLeases"/>), to renew and release.</summary>
    internal volatile bool Leased;

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
        if (Volatile.Read(ref _closeRequested) != 0)
        {
            return false;
        }

        if (Interlocked.Add(ref _queuedBytes, frame.Length) > _maxQueuedBytes || !_outbound.Writer.TryWrite(frame))
        {
            Interlocked.Add(ref _queuedBytes, -frame.Length);
            Log.SlowConsumer(_logger, Id);
            Close(WebSocketCloseStatus.PolicyViolation, "slow consumer", discardQueued: true);
            return false;
        }

        return true;
    }

    public bool TrySend<T>(T message, JsonTypeInfo<T> typeInfo) =>
        TrySend(JsonSerializer.SerializeToUtf8Bytes(message, typeInfo));

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
        _outbound.Writer.TryComplete();
        _closingSource.Cancel();
    }

    public void Close(int status, string reason, bool discardQueued = false) => Close((WebSocketCloseStatus)status, reason, discardQueued);

    /// <summary>
    /// The send side, the socket's only writer: queued frames until the connection closes, then the close
    /// frame. A write still waiting on a client that does not read ends when the host aborts the socket,
    /// <see cref="RealtimeOptions.CloseTimeout"/> after the close began.
    /// </summary>
    internal async Task SendLoopAsync()
    {
        try
        {
            await foreach (var frame in _outbound.Reader.ReadAllAsync())
            {
                Interlocked.Add(ref _queuedBytes, -frame.Length);
                if (_discardQueued)
                {
                    continue;
                }

                await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                _metrics.MessagesSent(1);
            }

            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(_closeStatus, _closeReason, CancellationToken.None);
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

using System.Net.WebSockets;

namespace WsAuth.Bench.Load;

/// <summary>Which of a server's socket endpoints: the user's own stream, or an organization's.</summary>
internal enum Endpoint
{
    Notifications,
    Organization,
}

/// <summary>One socket to open: where, as whom, and whether it publishes (the bare peer fans out what a publisher sends).</summary>
internal sealed record SocketTarget(Endpoint Endpoint, Servers.BenchUser User, Servers.BenchOrg? Org = null, bool Publisher = false)
{
    /// <summary>The subject's <c>?since=</c>: the last message id the client saw on this stream (the soak's reconnects).</summary>
    public long? Since { get; init; }
}

/// <summary>Handles one message (one record, for SignalR's record-separated frames) a socket received.</summary>
internal delegate void RecordHandler(BenchSocket socket, ReadOnlySpan<byte> record);

/// <summary>
/// A client socket of the load generator: a <see cref="ClientWebSocket"/>, one receive loop that hands every
/// message to the current <see cref="Handler"/>, and a lock so that sends never overlap.
/// </summary>
internal sealed class BenchSocket(SocketTarget target, WireProtocol protocol)
{
    private const int InitialBufferBytes = 2048;
    private const int MaxBufferBytes = 4 * 1024 * 1024;

    private readonly ClientWebSocket _socket = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _sending = new(1, 1);
    private bool _isReady;

    public SocketTarget Target { get; } = target;

    public RecordHandler? Handler { get; set; }

    /// <summary>The round trip in flight (echo): its id (0 when none) and when it left.</summary>
    public long PendingId;

    public long PendingSentAt;

    public bool IsOpen { get; private set; }

    /// <summary>The close code the server sent, if it closed the socket.</summary>
    public int? CloseCode { get; private set; }

    /// <summary>
    /// Connects, sends the protocol's opening (SignalR's handshake), and returns once the server's first
    /// message says the connection is ready (<c>welcome</c>, or SignalR's <c>{}</c>).
    /// </summary>
    public async Task ConnectAsync(Uri server, HttpMessageInvoker invoker, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(timeout);
        _socket.Options.KeepAliveInterval = TimeSpan.Zero;
        protocol.Configure(_socket.Options, Target);
        await _socket.ConnectAsync(protocol.SocketUri(server, Target), invoker, bound.Token);
        IsOpen = true;
        if (!protocol.Opening.IsEmpty)
        {
            await _socket.SendAsync(protocol.Opening, WebSocketMessageType.Text, endOfMessage: true, bound.Token);
        }

        _ = ReceiveLoopAsync();
        await _ready.Task.WaitAsync(bound.Token);
    }

    public async Task<bool> SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        if (!IsOpen)
        {
            return false;
        }

        await _sending.WaitAsync(cancellationToken);
        try
        {
            await _socket.SendAsync(message, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            return true;
        }
        catch (Exception exception) when (exception is WebSocketException or ObjectDisposedException or IOException)
        {
            return false;
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>
    /// The close handshake: our close frame, the server's, and then the server closes the TCP connection
    /// first, as RFC 6455 wants, so that TIME_WAIT stays on the server's side and not on our ports.
    /// </summary>
    public async Task CloseAsync(TimeSpan timeout)
    {
        if (IsOpen)
        {
            using var bound = new CancellationTokenSource(timeout);
            try
            {
                await _sending.WaitAsync(bound.Token);
                try
                {
                    await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", bound.Token);
                }
                finally
                {
                    _sending.Release();
                }
            }
            catch (Exception exception) when (exception is WebSocketException or ObjectDisposedException or IOException or OperationCanceledException)
            {
                // Dropped below.
            }
        }

        Abort();
    }

    /// <summary>Drops the connection at once (the server sees the TCP connection end).</summary>
    public void Abort()
    {
        IsOpen = false;
        _socket.Abort();
        _socket.Dispose();
    }

    /// <summary>Called by the protocol for each record of a message.</summary>
    internal void OnRecord(ReadOnlySpan<byte> record)
    {
        if (!_isReady)
        {
            if (protocol.IsReady(record))
            {
                _isReady = true;
                _ready.TrySetResult();
            }

            return;
        }

        if (!protocol.IsKeepAlive(record))
        {
            Handler?.Invoke(this, record);
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = new byte[InitialBufferBytes];
        try
        {
            while (true)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == buffer.Length)
                    {
                        if (buffer.Length >= MaxBufferBytes)
                        {
                            throw new WebSocketException("A message larger than the generator accepts arrived.");
                        }

                        Array.Resize(ref buffer, buffer.Length * 2);
                    }

                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        CloseCode = (int?)_socket.CloseStatus;
                        return;
                    }

                    length += result.Count;
                }
                while (!result.EndOfMessage);

                protocol.Dispatch(this, buffer.AsSpan(0, length));
            }
        }
        catch (Exception exception) when (exception is WebSocketException or ObjectDisposedException or IOException or OperationCanceledException)
        {
            // Aborted by us, or the connection dropped.
        }
        finally
        {
            IsOpen = false;
            _ready.TrySetException(new WebSocketException(
                CloseCode is { } code ? $"The server closed the socket with {code} before it was ready." : "The socket dropped before it was ready."));
        }
    }
}

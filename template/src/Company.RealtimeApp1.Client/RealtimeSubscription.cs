using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;

namespace Company.RealtimeApp1.Client;

/// <summary>
/// One endpoint kept open across sockets (made by <see cref="RealtimeClient.Connect"/>): each message once, in order,
/// in <see cref="Messages"/>, however often the socket under it is replaced.
/// </summary>
/// <remarks>
/// A socket that closes with <c>1001</c>, <c>1006</c>, <c>1008</c>, <c>1011</c>, <c>1012</c>, <c>1013</c> or <c>4029</c>
/// is replaced after the back-off of <see cref="RealtimeClientOptions"/>, which starts over once a socket stayed open
/// 10 seconds. <c>4001</c> is replaced at once if the token source gives a newer token, and ends the subscription if
/// not; <c>4003</c> and every other code end it.
/// </remarks>
public sealed class RealtimeSubscription : IAsyncDisposable
{
    private static readonly TimeSpan StableAfter = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);
    private static readonly int[] RetryCodes = [1001, 1006, 1008, 1011, 1012, 1013, 4029];

    private readonly RealtimeClient _client;
    private readonly RealtimeClientOptions _options;

    // Bounded: an app that stops reading stops this client reading its socket, and the server, seeing a slow consumer,
    // closes it 1008; the subscription then resumes where the app left off.
    private readonly Channel<ServerMessage> _messages = Channel.CreateBounded<ServerMessage>(
        new BoundedChannelOptions(1024) { SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly CancellationTokenSource _stopping = new();   // ends back-off, handshakes and token requests
    private readonly CancellationTokenSource _aborting = new();   // ends a receive the server never closes
    private readonly SemaphoreSlim _sending = new(1, 1);          // one writer per socket
    private Task _running = Task.CompletedTask;
    private ClientWebSocket? _socket;
    private string? _socketToken;    // the token the open socket is authenticated with
    private string? _offeredToken;   // sent with auth.refresh, not confirmed yet
    private int _disposed;

    internal RealtimeSubscription(RealtimeClient client, RealtimeClientOptions options, string path, long? since)
    {
        _client = client;
        _options = options;
        Path = path;
        LastId = since;
    }

    /// <summary>The endpoint's path.</summary>
    public string Path { get; }

    /// <summary>The id of the last stored message delivered (or the <c>since</c> it was connected with); null before one.</summary>
    public long? LastId { get; private set; }

    /// <summary>Where the subscription is, and the close that led there.</summary>
    public SubscriptionStatus Status { get; private set; } = new(SubscriptionState.Connecting);

    /// <summary>Raised on the subscription's own loop whenever <see cref="Status"/> changes; a handler should return quickly.</summary>
    public event EventHandler<SubscriptionStatus>? StatusChanged;

    /// <summary>
    /// Every message of every socket, stored ones once each and in order (one at or below <see cref="LastId"/> is
    /// dropped). It completes when the subscription ends, with the token source's exception if that ended it.
    /// Read it: while it is full, the socket is not read.
    /// </summary>
    public ChannelReader<ServerMessage> Messages => _messages.Reader;

    /// <summary>
    /// Sends <paramref name="message"/>, serialized in camelCase, e.g. <c>new { type = "ping", id = 1 }</c>, on the
    /// open socket. Cancelling the send aborts the socket (a subscription replaces it).
    /// </summary>
    /// <returns>Whether a socket was open to take it.</returns>
    public ValueTask<bool> SendAsync<TMessage>(TMessage message, CancellationToken cancellationToken = default) =>
        SendFrameAsync(JsonSerializer.SerializeToUtf8Bytes(message, JsonSerializerOptions.Web), cancellationToken);

    /// <summary>Closes the socket (<c>1000</c>) and ends the subscription.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stopping.CancelAsync();
        await SendCloseAsync();
        if (await Task.WhenAny(_running, Task.Delay(CloseTimeout)) != _running)
        {
            await _aborting.CancelAsync();
        }

        await _running;
        _stopping.Dispose();
        _aborting.Dispose();
    }

    internal void Start() => _running = RunAsync();

    private async Task RunAsync()
    {
        // The token source is the app's code: never run it on the caller of Connect.
        await Task.Yield();
        var stopping = _stopping.Token;
        var attempt = 0;
        var first = true;
        string? refused = null;   // the token of a 4001: only a newer one is worth a handshake
        SocketEnd? last = null;
        try
        {
            while (true)
            {
                var token = await _client.AccessTokenAsync(stopping);
                if (token is null || token == refused)
                {
                    Stop(new SubscriptionStatus(SubscriptionState.Closed, last?.Code, last?.Reason));
                    return;
                }

                var end = await RunSocketAsync(token, first || _options.Resume ? LastId : null, stopping);
                first = false;
                var previous = last;
                last = end;
                stopping.ThrowIfCancellationRequested();
                if (end.OpenFor >= StableAfter)
                {
                    attempt = 0;
                }

                if (end.Code == 4001)
                {
                    // The token the socket was on at the end (an auth.refresh may have replaced the one it opened with).
                    refused = _socketToken ?? token;
                    // A newer token is tried at once; a second refusal in a row waits as any retry does, so that a token
                    // source minting tokens the server keeps refusing (a clock off, say) does not spin.
                    var delay = previous?.Code == 4001 ? Backoff(attempt++) : TimeSpan.Zero;
                    SetStatus(new SubscriptionStatus(SubscriptionState.Reconnecting, end.Code, end.Reason, delay));
                    await Task.Delay(delay, stopping);
                }
                else if (RetryCodes.Contains(end.Code))
                {
                    var delay = Max(end.RetryAfter, Backoff(attempt++));
                    SetStatus(new SubscriptionStatus(SubscriptionState.Reconnecting, end.Code, end.Reason, delay));
                    await Task.Delay(delay, stopping);
                }
                else
                {
                    Stop(new SubscriptionStatus(SubscriptionState.Closed, end.Code, end.Reason));
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            Stop(new SubscriptionStatus(SubscriptionState.Closed, 1000, "closed by the client"));
        }
        catch (Exception exception)
        {
            Stop(new SubscriptionStatus(SubscriptionState.Closed), exception);
        }
    }

    /// <summary>Opens one socket and reads it until it closes.</summary>
    private async Task<SocketEnd> RunSocketAsync(string token, long? since, CancellationToken stopping)
    {
        ClientWebSocket socket;
        try
        {
            socket = await _client.OpenSocketAsync(Path, token, since, stopping);
        }
        catch (HandshakeFailedException failure)
        {
            return new SocketEnd(failure.CloseCode, failure.Message, TimeSpan.Zero, failure.RetryAfter);
        }

        using (socket)
        {
            return await ReadSocketAsync(socket, token, stopping);
        }
    }

    /// <summary>Reads the socket until it closes, handling each message.</summary>
    private async Task<SocketEnd> ReadSocketAsync(ClientWebSocket socket, string token, CancellationToken stopping)
    {
        _socket = socket;
        _socketToken = token;
        _offeredToken = null;
        long? welcomedAt = null;
        try
        {
            var buffer = new ArrayBufferWriter<byte>();
            while (await ReceiveAsync(socket, buffer) is { } message)
            {
                if (message.Type == "welcome")
                {
                    welcomedAt = Environment.TickCount64;
                    SetStatus(new SubscriptionStatus(SubscriptionState.Open));
                }

                await HandleAsync(message, stopping);
            }
        }
        catch (WebSocketException)
        {
            // The connection was lost: 1006, below.
        }
        finally
        {
            await _sending.WaitAsync(CancellationToken.None);
            _socket = null;
            _sending.Release();
        }

        var openFor = welcomedAt is { } at ? TimeSpan.FromMilliseconds(Environment.TickCount64 - at) : TimeSpan.Zero;
        return socket.CloseStatus is { } status
            ? new SocketEnd((int)status, socket.CloseStatusDescription, openFor, TimeSpan.Zero)
            : new SocketEnd(1006, "the connection was lost", openFor, TimeSpan.Zero);
    }

    /// <summary>The next message; null once the server closed (after answering its close frame).</summary>
    private async Task<ServerMessage?> ReceiveAsync(ClientWebSocket socket, ArrayBufferWriter<byte> buffer)
    {
        while (true)
        {
            buffer.ResetWrittenCount();
            ValueWebSocketReceiveResult result;
            do
            {
                result = await socket.ReceiveAsync(buffer.GetMemory(4096), _aborting.Token);
                buffer.Advance(result.Count);
            }
            while (!result.EndOfMessage);

            if (result.MessageType == WebSocketMessageType.Close)
            {
                if (socket.State == WebSocketState.CloseReceived)
                {
                    await SendCloseAsync();
                }

                return null;
            }

            if (result.MessageType == WebSocketMessageType.Text && ServerMessage.Parse(buffer.WrittenSpan) is { } message)
            {
                return message;
            }
        }
    }

    /// <summary>What the client does with a message before the app sees it (the protocol of SPEC §3).</summary>
    private async ValueTask HandleAsync(ServerMessage message, CancellationToken stopping)
    {
        switch (message.Type)
        {
            case "auth.expiring":
                // A newer token in band keeps the socket; none, and it closes 4001 at expiry and is replaced.
                var token = await _client.AccessTokenAsync(stopping);
                if (token is not null && token != _socketToken && token != _offeredToken
                    && await SendAsync(new { type = "auth.refresh", access_token = token }, stopping))
                {
                    _offeredToken = token;
                }

                break;
            case "auth.refreshed":
                _socketToken = _offeredToken ?? _socketToken;
                _offeredToken = null;
                break;
            case "error" when message.Json.TryGetProperty("code", out var code) && code.ValueEquals("invalid_refresh"):
                _offeredToken = null;
                break;
        }

        if (message.Id is { } id)
        {
            if (id <= LastId)
            {
                return;
            }

            LastId = id;
        }

        await _messages.Writer.WriteAsync(message, stopping);
    }

    private async ValueTask<bool> SendFrameAsync(byte[] frame, CancellationToken cancellationToken)
    {
        await _sending.WaitAsync(cancellationToken);
        try
        {
            if (_socket is not { State: WebSocketState.Open } socket)
            {
                return false;
            }

            await socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
            return true;
        }
        catch (WebSocketException)
        {
            return false;
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>Starts the close handshake, or answers the server's (best effort: the socket may be gone).</summary>
    private async Task SendCloseAsync()
    {
        await _sending.WaitAsync(CancellationToken.None);
        try
        {
            if (_socket is { State: WebSocketState.Open or WebSocketState.CloseReceived } socket)
            {
                using var timeout = new CancellationTokenSource(CloseTimeout);
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "closed by the client", timeout.Token);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
            // Nothing more to say to a socket that is gone.
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>Jittered exponential back-off: a random time between half of min(max, min·2ⁿ) and all of it.</summary>
    private TimeSpan Backoff(int attempt)
    {
        var ceiling = Math.Min(_options.MaxReconnectDelay.TotalMilliseconds, _options.MinReconnectDelay.TotalMilliseconds * Math.Pow(2, Math.Min(attempt, 30)));
        return TimeSpan.FromMilliseconds(ceiling / 2 + Random.Shared.NextDouble() * ceiling / 2);
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private void SetStatus(SubscriptionStatus status)
    {
        Status = status;
        StatusChanged?.Invoke(this, status);
    }

    private void Stop(SubscriptionStatus status, Exception? fault = null)
    {
        SetStatus(status);
        _messages.Writer.TryComplete(fault);
    }

    /// <summary>How a socket ended: its close code and reason, how long it was open after <c>welcome</c>, and the server's <c>Retry-After</c>.</summary>
    private readonly record struct SocketEnd(int Code, string? Reason, TimeSpan OpenFor, TimeSpan RetryAfter);
}

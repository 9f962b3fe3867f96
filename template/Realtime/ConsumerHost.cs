using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Realtime;

/// <summary>
/// Runs one consumer on one accepted socket: the welcome, the receive loop that parses and dispatches
/// client messages, the send loop that writes queued frames, and the close, joined with Task.WhenAny.
/// </summary>
internal sealed partial class ConsumerHost(
    StreamHub hub,
    IMessageBus bus,
    ConnectionRegistry registry,
    ConnectionAuthorityChecks authority,
    RealtimeMetrics metrics,
    IConnectionTokenValidator accessTokens,
    TimeProvider time,
    IOptions<RealtimeOptions> options,
    ILogger<ConsumerHost> logger)
{
    private static readonly TimeSpan CloseHandshakeTimeout = TimeSpan.FromSeconds(5);
    private const int ReceiveChunkBytes = 4096;

    public async Task RunAsync<TConsumer>(HttpContext context) where TConsumer : WebSocketConsumer
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "WebSocket endpoint",
                detail: "This endpoint only accepts WebSocket upgrade requests.").ExecuteAsync(context);
            return;
        }

        var settings = options.Value;
        using var socket = await WebSocketHandshake.AcceptAsync(context, settings);
        // The request stays in memory as long as the socket. A token in its Authorization header has done
        // its job (the principal carries what it said), so it is dropped rather than kept for hours, about
        // 1 KB each; one sent in the query string, a subprotocol or the cookie stays with the request.
        context.Request.Headers.Authorization = default;
        var connection = new RealtimeConnection(socket, context.User, settings, metrics, logger);
        var consumer = ConsumerFactory<TConsumer>.Create(context.RequestServices, []);
        var consumerContext = new ConsumerContext(connection, context, hub, bus, authority, ReadSince(context.Request));
        // The welcome is queued before the connection is registered, so nothing (an expiry warning, a
        // broadcast) can overtake it; the send loop has not started, so a refused socket never sees it.
        var identity = connection.Identity;
        connection.TrySend(
            new WelcomeMessage(new WelcomeUser(identity.UserId.ToString(), identity.UserName), connection.Id, identity.ExpiresAt),
            RealtimeJsonContext.Default.WelcomeMessage);
        var admitted = registry.TryAdd(connection, settings.MaxConnectionsPerUser);
        if (!admitted)
        {
            Log.TooManyConnections(logger, connection.Id, connection.Identity.UserId);
            connection.Close((WebSocketCloseStatus)CloseCodes.TooManyRequests, "too many connections", discardQueued: true);
        }

        Log.Connected(logger, connection.Id, connection.Identity.UserId, context.Request.Path);
        metrics.Connected();
        var sending = connection.SendLoopAsync();
        var receiving = admitted ? RunConsumerAsync(connection, consumer, consumerContext, settings) : WaitForCloseAsync(socket);

        // Once either side starts closing, the close handshake gets a few seconds; a client that does not
        // answer it, or does not read at all, is then cut off rather than kept forever.
        using var cutOff = connection.Closing.Register(() => _ = CutOffWhenStuckAsync(socket, receiving, sending));
        try
        {
            await Task.WhenAll(receiving, sending);
        }
        finally
        {
            registry.Remove(connection);
            await consumerContext.LeaveAllAsync();
            if (admitted)
            {
                await NotifyDisconnectedAsync(consumer, consumerContext);
            }

            Log.Disconnected(logger, connection.Id, (int?)socket.CloseStatus);
            metrics.Disconnected((int?)socket.CloseStatus);
        }
    }

    private static async Task CutOffWhenStuckAsync(WebSocket socket, Task receiving, Task sending)
    {
        await Task.Delay(CloseHandshakeTimeout);
        if (!receiving.IsCompleted || !sending.IsCompleted)
        {
            socket.Abort();
        }
    }

    /// <summary>Reads and ignores whatever comes until the client answers the close frame.</summary>
    private static async Task WaitForCloseAsync(WebSocket socket)
    {
        var buffer = new byte[256];
        try
        {
            while ((await socket.ReceiveAsync(buffer, CancellationToken.None)).MessageType != WebSocketMessageType.Close)
            {
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
            // The client hung up without closing: nothing more to wait for.
        }
    }

    private async Task RunConsumerAsync(
        RealtimeConnection connection, WebSocketConsumer consumer, ConsumerContext context, RealtimeOptions settings)
    {
        try
        {
            // Registered now, so every later revocation reaches this connection; one that came between the
            // handshake's checks and the registration shows here instead.
            if (!await authority.RecheckAsync([connection], AuthorityRecheck.Joined, connection.Closing))
            {
                await WaitForCloseAsync(connection.Socket);
                return;
            }

            await consumer.OnConnectedAsync(context);
            await ReceiveLoopAsync(connection, consumer, context, settings);
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
            // The client vanished or the connection was closed while a handler ran.
            connection.Close(WebSocketCloseStatus.NormalClosure, "");
        }
        catch (Exception exception)
        {
            Log.ConsumerFault(logger, exception, connection.Id);
            connection.Close(WebSocketCloseStatus.InternalServerError, "server error");
        }
    }

    private async Task ReceiveLoopAsync(
        RealtimeConnection connection, WebSocketConsumer consumer, ConsumerContext context, RealtimeOptions settings)
    {
        var socket = connection.Socket;
        var bucket = new MessageRateLimit(settings.MessagesPerSecond, settings.MessageBurst, time);
        while (socket.State == WebSocketState.Open)
        {
            // A zero-byte read waits for the next frame without holding a buffer for an idle socket.
            var next = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
            if (next.MessageType == WebSocketMessageType.Close)
            {
                // The client closed: answer with its own code, and drop what it will not read anyway.
                connection.Close(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, "", discardQueued: true);
                return;
            }

            var buffer = ArrayPool<byte>.Shared.Rent(ReceiveChunkBytes);
            try
            {
                (buffer, var length, var failure) = await ReceiveMessageAsync(socket, next.MessageType, buffer, settings.MaxMessageBytes);
                if (failure is { } close)
                {
                    connection.Close(close.Status, close.Reason);
                    return;
                }

                if (connection.Closing.IsCancellationRequested)
                {
                    return;
                }

                metrics.MessageReceived();
                if (!bucket.TryTake())
                {
                    Log.TooManyMessages(logger, connection.Id);
                    connection.Close(CloseCodes.TooManyRequests, "too many messages");
                    return;
                }

                await DispatchAsync(connection, consumer, context, buffer.AsMemory(0, length));
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }
    }

    /// <summary>
    /// Reads one whole message, counted across fragments, into a pooled buffer that grows up to the
    /// limit and no further. Returns the buffer in use, which the caller returns to the pool.
    /// </summary>
    private static async Task<(byte[] Buffer, int Length, (WebSocketCloseStatus Status, string Reason)? Failure)> ReceiveMessageAsync(
        WebSocket socket, WebSocketMessageType type, byte[] buffer, int maxBytes)
    {
        if (type == WebSocketMessageType.Binary)
        {
            return (buffer, 0, (WebSocketCloseStatus.InvalidMessageType, "binary messages are not supported"));
        }

        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, maxBytes + 1));
                buffer.AsSpan(0, length).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(buffer);
                buffer = larger;
            }

            var result = await socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (buffer, 0, (WebSocketCloseStatus.NormalClosure, ""));
            }

            if (result.MessageType == WebSocketMessageType.Binary)
            {
                return (buffer, 0, (WebSocketCloseStatus.InvalidMessageType, "binary messages are not supported"));
            }

            length += result.Count;
            if (length > maxBytes)
            {
                return (buffer, 0, (WebSocketCloseStatus.MessageTooBig, "message too big"));
            }

            // Invalid UTF-8 in a text message never gets here: the framework's WebSocket closes with 1007.
            if (result.EndOfMessage)
            {
                return (buffer, length, null);
            }
        }
    }

    private async Task DispatchAsync(
        RealtimeConnection connection, WebSocketConsumer consumer, ConsumerContext context, ReadOnlyMemory<byte> utf8)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8);
        }
        catch (JsonException)
        {
            context.SendError(ErrorCodes.InvalidJson, "The message is not valid JSON.");
            return;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("type", out var typeElement)
                || typeElement.ValueKind != JsonValueKind.String
                || typeElement.GetString() is not { Length: > 0 } type)
            {
                context.SendError(ErrorCodes.InvalidMessage, "A message must be a JSON object with a string 'type'.");
                return;
            }

            try
            {
                switch (type)
                {
                    case "ping":
                        connection.TrySend(
                            new PongMessage(root.TryGetProperty("id", out var id) ? id : null),
                            RealtimeJsonContext.Default.PongMessage);
                        break;
                    case "resume":
                        await context.ResumeAsync(ReadResumeSince(root));
                        break;
                    case "auth.refresh":
                        await RefreshAsync(connection, context, root);
                        break;
                    default:
                        if (!await consumer.OnMessageAsync(context, new IncomingMessage(type, root)))
                        {
                            context.SendError(ErrorCodes.UnknownType, $"Unknown message type '{Truncate(type)}'.");
                        }

                        break;
                }
            }
            catch (InvalidMessageException exception)
            {
                context.SendError(ErrorCodes.InvalidMessage, exception.Message);
            }
        }
    }

    /// <summary>
    /// Continues the connection under a new access token of the same user, so that it outlives the
    /// token it was opened with; anything else changes nothing and is answered <c>invalid_refresh</c>.
    /// </summary>
    private async Task RefreshAsync(RealtimeConnection connection, ConsumerContext context, JsonElement root)
    {
        if (!root.TryGetProperty("access_token", out var tokenElement)
            || tokenElement.ValueKind != JsonValueKind.String
            || tokenElement.GetString() is not { Length: > 0 } token)
        {
            throw new InvalidMessageException("An 'auth.refresh' message needs 'access_token': a string.");
        }

        var principal = await accessTokens.ValidateAsync(token, connection.Closing);
        if (principal is null || ConnectionIdentity.From(principal).UserId != connection.Identity.UserId)
        {
            context.SendError(ErrorCodes.InvalidRefresh, "The access token is invalid, expired, or belongs to another user.");
            return;
        }

        // A new token renews the user's credentials, not what else the socket relies on: a membership
        // removed meanwhile closes it rather than being renewed along with it.
        connection.Refresh(principal);
        if (await authority.RecheckAsync([connection], AuthorityRecheck.Refreshed, connection.Closing))
        {
            connection.TrySend(new AuthRefreshedMessage(connection.Identity.ExpiresAt), RealtimeJsonContext.Default.AuthRefreshedMessage);
        }
    }

    private static long ReadResumeSince(JsonElement root) =>
        root.TryGetProperty("since", out var since) && since.ValueKind == JsonValueKind.Number && since.TryGetInt64(out var value) && value >= 0
            ? value
            : throw new InvalidMessageException("A 'resume' message needs 'since': the last message id seen, a number of 0 or more.");

    private static long? ReadSince(HttpRequest request) =>
        long.TryParse(request.Query["since"], out var since) && since >= 0 ? since : null;

    private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "…";

    private async Task NotifyDisconnectedAsync(WebSocketConsumer consumer, ConsumerContext context)
    {
        try
        {
            await consumer.OnDisconnectedAsync(context);
        }
        catch (Exception exception)
        {
            Log.ConsumerFault(logger, exception, context.ConnectionId);
        }
    }

    /// <summary>The consumer's constructor, resolved once per type rather than by reflection per socket.</summary>
    private static class ConsumerFactory<TConsumer> where TConsumer : WebSocketConsumer
    {
        public static readonly ObjectFactory<TConsumer> Create = ActivatorUtilities.CreateFactory<TConsumer>([]);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Connection {ConnectionId} opened by user {UserId} on {Path}")]
        public static partial void Connected(ILogger logger, string connectionId, Guid userId, PathString path);

        [LoggerMessage(2, LogLevel.Debug, "Connection {ConnectionId} closed ({CloseStatus})")]
        public static partial void Disconnected(ILogger logger, string connectionId, int? closeStatus);

        [LoggerMessage(3, LogLevel.Error, "Connection {ConnectionId} failed; closing it with 1011")]
        public static partial void ConsumerFault(ILogger logger, Exception exception, string connectionId);

        [LoggerMessage(4, LogLevel.Warning, "Connection {ConnectionId} refused: user {UserId} has too many open connections")]
        public static partial void TooManyConnections(ILogger logger, string connectionId, Guid userId);

        [LoggerMessage(5, LogLevel.Warning, "Connection {ConnectionId} sends messages too fast; closing it")]
        public static partial void TooManyMessages(ILogger logger, string connectionId);
    }
}

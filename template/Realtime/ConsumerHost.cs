using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Unicode;
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
        var connection = new RealtimeConnection(socket, context.User, settings, logger);
        var consumer = ActivatorUtilities.CreateInstance<TConsumer>(context.RequestServices);
        var consumerContext = new ConsumerContext(connection, context, hub, bus, ReadSince(context.Request));
        registry.Add(connection);
        Log.Connected(logger, connection.Id, connection.Identity.UserId, context.Request.Path);

        var sending = connection.SendLoopAsync();
        var receiving = RunConsumerAsync(connection, consumer, consumerContext, settings);
        try
        {
            if (await Task.WhenAny(receiving, sending) == sending)
            {
                // The server closed: give the client a moment to answer the close frame, then hang up.
                if (await Task.WhenAny(receiving, Task.Delay(CloseHandshakeTimeout)) != receiving)
                {
                    connection.Socket.Abort();
                }
            }

            await receiving;
            await sending.WaitAsync(CloseHandshakeTimeout);
        }
        catch (TimeoutException)
        {
            connection.Socket.Abort();
        }
        finally
        {
            registry.Remove(connection);
            await consumerContext.LeaveAllAsync();
            await NotifyDisconnectedAsync(consumer, consumerContext);
            Log.Disconnected(logger, connection.Id, (int?)socket.CloseStatus);
        }
    }

    private async Task RunConsumerAsync(
        RealtimeConnection connection, WebSocketConsumer consumer, ConsumerContext context, RealtimeOptions settings)
    {
        try
        {
            var identity = connection.Identity;
            connection.TrySend(
                new WelcomeMessage(new WelcomeUser(identity.UserId.ToString(), identity.UserName), connection.Id, identity.ExpiresAt),
                RealtimeJsonContext.Default.WelcomeMessage);
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
        while (socket.State == WebSocketState.Open)
        {
            // A zero-byte read waits for the next frame without holding a buffer for an idle socket.
            var next = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
            if (next.MessageType == WebSocketMessageType.Close)
            {
                connection.Close(WebSocketCloseStatus.NormalClosure, "");
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

            if (result.EndOfMessage)
            {
                return Utf8.IsValid(buffer.AsSpan(0, length))
                    ? (buffer, length, null)
                    : (buffer, 0, (WebSocketCloseStatus.InvalidPayloadData, "invalid UTF-8"));
            }
        }
    }

    private static async Task DispatchAsync(
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

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Debug, "Connection {ConnectionId} opened by user {UserId} on {Path}")]
        public static partial void Connected(ILogger logger, string connectionId, Guid userId, PathString path);

        [LoggerMessage(2, LogLevel.Debug, "Connection {ConnectionId} closed ({CloseStatus})")]
        public static partial void Disconnected(ILogger logger, string connectionId, int? closeStatus);

        [LoggerMessage(3, LogLevel.Error, "Connection {ConnectionId} failed; closing it with 1011")]
        public static partial void ConsumerFault(ILogger logger, Exception exception, string connectionId);
    }
}

using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// The endpoint's lifecycle for one consumer on one socket: accept, admit (the per-user cap, on this
/// instance by <see cref="ConnectionRegistry"/> and on all of them by <see cref="IConnectionLeases"/>), welcome,
/// run the receive side (messages read by <see cref="WebSocketMessageReader"/>, control messages answered
/// by <see cref="ControlMessages"/>, the rest dispatched to the consumer) and the send side
/// (<see cref="RealtimeConnection.SendLoopAsync"/>) joined with Task.WhenAny, then the close handshake
/// within <see cref="RealtimeOptions.CloseTimeout"/>, then Abort() and clean up.
/// </summary>
internal sealed partial class ConsumerHost(
    StreamHub hub,
    IMessageBus bus,
    StreamPublisher publisher,
    StreamPresence presence,
    ConnectionRegistry registry,
    IConnectionLeases leases,
    ConnectionAuthorityChecks authority,
    ControlMessages controlMessages,
    RealtimeMetrics metrics,
    TimeProvider time,
    IOptions<RealtimeOptions> options,
    ILogger<ConsumerHost> logger)
{
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
        using var connectionAbort = HeldConnectionAbort.Install(context, HeldConnectionAbort.HoldFor(settings));
        using var socket = await WebSocketHandshake.AcceptAsync(context, settings);
        // The request stays in memory as long as the socket. A token in its Authorization header has done
        // its job (the principal carries what it said), so it is dropped rather than kept for hours, about
        // 1 KB each; one sent in the query string, a subprotocol or the cookie stays with the request.
        context.Request.Headers.Authorization = default;
        var connection = new RealtimeConnection(socket, context.User, settings, metrics, logger);
        // A consumer with an access rule was created to check it, and keeps what it found.
        var consumer = ConsumerAccessRequirement.Authorized(context) as TConsumer;
        if (consumer is null)
        {
            consumer = Create<TConsumer>(context.RequestServices);
            // Its endpoint's policies were bypassed (an AllowAnonymous added to it, say): the rule still decides.
            if (consumer is IAuthorizingConsumer rule
                && (context.User.Identity?.IsAuthenticated != true
                    || !await rule.AuthorizeAsync(new ConsumerRequest(context.User, context.Request.RouteValues, context.RequestServices, context.RequestAborted))))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                return;
            }
        }
        var since = ReadSince(context.Request, out var sinceInvalid);
        var consumerContext = new ConsumerContext(connection, context, consumer, hub, bus, publisher, presence, authority, logger, since);
        // The welcome is queued before the connection is registered, so nothing (an expiry warning, a
        // broadcast) can overtake it; the send loop has not started, so a refused socket never sees it.
        var identity = connection.Identity;
        connection.TrySend(
            new WelcomeMessage(new WelcomeUser(identity.UserId.ToString(), identity.UserName), connection.Id, identity.ExpiresAt),
            RealtimeJsonContext.Default.WelcomeMessage);
        if (sinceInvalid)
        {
            // Told after the welcome, and the socket goes on live (SPEC §3).
            consumerContext.SendError(ErrorCodes.InvalidMessage, "'since' is the last message id seen: an integer of 0 or more.");
        }

        var admitted = registry.TryAdd(connection, settings.MaxConnectionsPerUser)
            && await TryLeaseAsync(connection, settings.MaxConnectionsPerUser);
        if (!admitted)
        {
            Log.TooManyConnections(logger, connection.Id, connection.Identity.UserId);
            connection.Close((WebSocketCloseStatus)CloseCodes.TooManyRequests, "too many connections", discardQueued: true);
        }

        Log.Connected(logger, connection.Id, connection.Identity.UserId, context.Request.Path);
        metrics.Connected();

        // Once the connection starts closing, whoever closed it, the close handshake has CloseTimeout: the
        // queued frames and the close frame go out, the client's close comes back, or the socket is aborted.
        using var closeDeadline = new CancellationTokenSource();
        using var startDeadline = connection.Closing.Register(() => closeDeadline.CancelAfter(settings.CloseTimeout));
        // The deadline aborts the connection, which ends whatever read or write still waits. The reads and
        // writes themselves take no token: a cancellable one costs every frame a registration and the
        // WebSocket's slower send path.
        using var abortAtDeadline = closeDeadline.Token.Register(() =>
        {
            connectionAbort.AbortNow();
            socket.Abort();
        });
        var sending = connection.SendLoopAsync();
        var receiving = admitted
            ? ReceiveAsync(connection, consumer, consumerContext, settings)
            : CloseHandshake.DrainAsync(socket, CancellationToken.None);
        try
        {
            await Task.WhenAny(receiving, sending);
            // Either side ending means the connection is over; the other side gets the rest of the deadline.
            connection.Close(WebSocketCloseStatus.NormalClosure, "");
            await Task.WhenAll(receiving, sending);
        }
        finally
        {
            if (socket.State != WebSocketState.Closed)
            {
                // An aborted socket may still have a close frame on its way (the framework sends 1007 or 1002 and
                // aborts): ending the connection at once can drop it or reset the connection before the client reads it.
                socket.Abort();
                await connectionAbort.AbortAfterHoldAsync();
            }

            registry.Remove(connection);
            if (connection.Leased)
            {
                await leases.ReleaseAsync(connection.Identity.UserId, connection.Id);
            }

            await consumerContext.LeaveAllAsync();
            if (admitted)
            {
                await NotifyDisconnectedAsync(consumer, consumerContext);
            }

            // The code the client answered or closed with; else the one the server closed with, to a client
            // that never answered it or never read it (a slow consumer's 1008, say); else none came (1006).
            var closeCode = (int?)socket.CloseStatus ?? connection.CloseStatusChosen;
            Log.Disconnected(logger, connection.Id, closeCode);
            metrics.Disconnected(closeCode);
        }
    }

    /// <summary>
    /// The cap across all instances, once this instance's own count has admitted the connection: a
    /// connection refused here leaves the registry at once, so it does not hold a local slot while it closes.
    /// </summary>
    private async ValueTask<bool> TryLeaseAsync(RealtimeConnection connection, int maxPerUser)
    {
        if (!await leases.TryAcquireAsync(connection.Identity.UserId, connection.Id, maxPerUser))
        {
            registry.Remove(connection);
            return false;
        }

        connection.Leased = true;
        return true;
    }

    /// <summary>
    /// The receive side: the consumer's messages until the connection closes, then the rest of the close
    /// handshake, discarding what the client still sends until its close frame or the deadline.
    /// </summary>
    private async Task ReceiveAsync(
        RealtimeConnection connection, WebSocketConsumer consumer, ConsumerContext context, RealtimeOptions settings)
    {
        try
        {
            // Registered now, so every later revocation reaches this connection; one that came between the
            // handshake's checks and the registration shows here instead.
            if (await authority.RecheckAsync([connection], AuthorityRecheck.Joined, connection.Closing))
            {
                await context.JoinUserStreamAsync();
                await consumer.OnConnectedAsync(context);
                await ReceiveMessagesAsync(connection, consumer, context, settings);
            }
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

        await CloseHandshake.DrainAsync(connection.Socket, CancellationToken.None);
    }

    private async Task ReceiveMessagesAsync(
        RealtimeConnection connection, WebSocketConsumer consumer, ConsumerContext context, RealtimeOptions settings)
    {
        var socket = connection.Socket;
        var bucket = new MessageRateLimit(settings.MessagesPerSecond, settings.MessageBurst, time);
        using var reader = new WebSocketMessageReader(socket, settings.MaxMessageBytes);
        while (!connection.Closing.IsCancellationRequested)
        {
            // A read still waiting when the close began is the close handshake's, and ends with its deadline.
            var read = await reader.ReadAsync();
            switch (read.Outcome)
            {
                case MessageReadOutcome.ClientClosed:
                    // The client closed: answer with its own code, and drop what it will not read anyway.
                    connection.Close(socket.CloseStatus ?? WebSocketCloseStatus.NormalClosure, "", discardQueued: true);
                    return;
                case MessageReadOutcome.Refused:
                    connection.Close(read.CloseStatus, read.CloseReason);
                    return;
            }

            // Once the connection is closing, what still arrives is discarded by the close handshake.
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

            await DispatchAsync(connection, consumer, context, read.Text);
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

        // The parser took it, but a string that is not Unicode text would throw wherever it is read, in the
        // realtime layer or a consumer, and close the socket 1011: it is the client's error, answered here.
        // A text frame is valid UTF-8 already (else 1007), so only an escape can hide a lone surrogate: a
        // message without a backslash, nearly every one, is not parsed a second time.
        if (utf8.Span.Contains((byte)'\\') && !UnicodeJson.IsValid(utf8))
        {
            document.Dispose();
            context.SendError(ErrorCodes.InvalidJson, "The message is not valid JSON: a string in it is not Unicode text (a lone surrogate escape).");
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
                if (!await controlMessages.TryHandleAsync(connection, context, type, root)
                    && !await consumer.OnMessageAsync(context, new IncomingMessage(type, root)))
                {
                    context.SendError(ErrorCodes.UnknownType, $"Unknown message type '{Truncate(type)}'.");
                }
            }
            catch (InvalidMessageException exception)
            {
                context.SendError(ErrorCodes.InvalidMessage, exception.Message);
            }
            catch (MessageTooLargeException exception)
            {
                // A message the consumer published or stored would not fit a socket: the client's message was the cause.
                context.SendError(ErrorCodes.InvalidMessage, exception.Message);
            }
        }
    }

    /// <summary>The <c>since</c> on the URL, if any; <paramref name="invalid"/> when one is there but is not an id.</summary>
    private static long? ReadSince(HttpRequest request, out bool invalid)
    {
        var values = request.Query["since"];
        invalid = false;
        if (values.Count == 0)
        {
            return null;
        }

        if (values.Count == 1 && long.TryParse(values[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var since))
        {
            return since;
        }

        invalid = true;
        return null;
    }

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

    /// <summary>A consumer for one connection, from the request's services.</summary>
    internal static TConsumer Create<TConsumer>(IServiceProvider services) where TConsumer : WebSocketConsumer =>
        ConsumerFactory<TConsumer>.Create(services, []);

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

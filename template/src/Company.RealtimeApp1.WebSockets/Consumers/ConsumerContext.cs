using System.Text.Json;
using Microsoft.AspNetCore.Routing;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>What a consumer knows of its connection: who, which route, and how to talk back.</summary>
public sealed partial class ConsumerContext
{
    private readonly StreamHub _hub;
    private readonly IMessageBus _bus;
    private readonly ConnectionAuthorityChecks _authority;
    private readonly ILogger _logger;
    private readonly StreamPublisher _publisher;
    private readonly StreamPresence _presence;
    private readonly List<StreamId> _presenceOn = [];
    private readonly List<StreamMembership> _streams = [];

    internal ConsumerContext(
        RealtimeConnection connection,
        HttpContext httpContext,
        WebSocketConsumer consumer,
        StreamHub hub,
        IMessageBus bus,
        StreamPublisher publisher,
        StreamPresence presence,
        ConnectionAuthorityChecks authority,
        ILogger logger,
        long? since)
    {
        Connection = connection;
        Consumer = consumer;
        _publisher = publisher;
        _presence = presence;
        HttpContext = httpContext;
        _hub = hub;
        _bus = bus;
        _authority = authority;
        _logger = logger;
        Since = since;
    }

    internal RealtimeConnection Connection { get; }

    internal HttpContext HttpContext { get; }

    /// <summary>The consumer serving this connection: its access rule runs again at <c>auth.refresh</c>.</summary>
    internal WebSocketConsumer Consumer { get; }

    /// <summary>The <c>since</c> the client gave on the URL, if any: the last message id it saw.</summary>
    internal long? Since { get; }

    public string ConnectionId => Connection.Id;

    public Guid UserId => Connection.Identity.UserId;

    public string UserName => Connection.Identity.UserName;

    public System.Security.Claims.ClaimsPrincipal User => Connection.User;

    public RouteValueDictionary RouteValues => HttpContext.Request.RouteValues;

    public IServiceProvider Services => HttpContext.RequestServices;

    /// <summary>Cancelled when the connection starts closing.</summary>
    public CancellationToken Closing => Connection.Closing;

    /// <summary>
    /// Joins <paramref name="stream"/>: from now on every message published to it reaches this client, stored
    /// ones in position order, each once. When the client connected with <c>since</c>, the stored messages after
    /// it are sent first (from <paramref name="history"/>), then <c>resumed</c>. The connection's authority is
    /// confirmed once it is on the stream; a connection that lost it is closed. With <paramref name="presence"/>, the
    /// socket then gets who is online on the stream (<c>presence</c>) and, while it is open, who comes and goes
    /// (<c>presence.joined</c>, <c>presence.left</c>), on every instance, each user once; and it counts as its user's.
    /// </summary>
    public async ValueTask JoinAsync(StreamId stream, IStreamHistory? history = null, bool presence = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (stream.Kind == StreamPublisher.UserStreamKind)
        {
            throw new ArgumentException("A user's own stream is joined by the realtime layer; send to it with SendToUserAsync.", nameof(stream));
        }

        var membership = new StreamMembership(stream, Connection, history ?? NoHistory.Instance, _logger);
        _streams.Add(membership);
        Connection.AddStream(stream);
        _hub.Add(stream, membership);
        await _bus.SubscribeAsync(stream, Closing);
        // A revocation reaches only connections already on the stream, and the handshake's checks ran
        // before this one was: a withdrawal that fell in between shows now, before anything is replayed.
        if (!await _authority.RecheckAsync([Connection], AuthorityRecheck.Joined, Closing))
        {
            return;
        }

        if (Since is { } since)
        {
            await ReplayAsync([membership], since);
        }
        else if (_bus.MayLoseMessages && membership.IsStored)
        {
            // Read once the socket is subscribed: whatever is stored after it reaches this socket over the bus,
            // or leaves a gap it sees and fills from the store.
            membership.StartAfter(await membership.History.HeadAsync(stream, Closing));
        }
        else
        {
            membership.StartAtFirstMessage();
        }

        if (presence && _presence.Enabled && !Closing.IsCancellationRequested)
        {
            // After the welcome, and after the replay and `resumed` when resuming (SPEC §3).
            _presenceOn.Add(stream);
            await _presence.JoinAsync(stream, Connection, Closing);
        }
    }

    /// <summary>
    /// Sends <paramref name="message"/> (whose first member should be its <c>type</c>; serialized with the web
    /// defaults) to every socket on <paramref name="stream"/> but this one, on every instance. Nothing is stored.
    /// </summary>
    public ValueTask PublishToOthersAsync<T>(StreamId stream, T message) =>
        _publisher.PublishAsync(stream, message, Connection.Id, Closing);

    /// <summary>
    /// Sends <c>{"type":<paramref name="type"/>,"data":<paramref name="data"/>,"sender":{"id","username"}}</c> to every
    /// socket on <paramref name="stream"/>, on every instance, this one included. Nothing is stored. Throws
    /// <see cref="MessageTooLargeException"/> (the client is told <c>invalid_message</c>) over <c>WebSockets:MaxMessageBytes</c>.
    /// </summary>
    public ValueTask SendToStreamAsync<T>(StreamId stream, string type, T data) =>
        _publisher.PublishAsync(stream, new Envelope<T>(type, data, Sender), exceptConnection: null, Closing);

    /// <summary>As <see cref="SendToStreamAsync"/>, to every socket on <paramref name="stream"/> but this one (typing, cursors).</summary>
    public ValueTask SendToOthersAsync<T>(StreamId stream, string type, T data) =>
        _publisher.PublishAsync(stream, new Envelope<T>(type, data, Sender), Connection.Id, Closing);

    private MessageSender Sender => new(UserId, UserName);

    /// <summary>Sends a message to this client only. It is serialized with the web defaults (camelCase).</summary>
    public bool Send<T>(T message) => Connection.TrySend(JsonSerializer.SerializeToUtf8Bytes(message, JsonSerializerOptions.Web));

    /// <summary>Replies with an <c>error</c> message; the socket stays open.</summary>
    public void SendError(string code, string detail) => Connection.TrySend(new ErrorMessage(code, detail), RealtimeJsonContext.Default.ErrorMessage);

    /// <summary>
    /// Sends <c>{"type":<paramref name="type"/>,"data":<paramref name="data"/>,"sender":{"id","username"}}</c> to every
    /// socket of <paramref name="userId"/>, on every instance, on whichever endpoint. Nothing is stored.
    /// </summary>
    public ValueTask SendToUserAsync<T>(Guid userId, string type, T data) =>
        _publisher.PublishAsync(StreamPublisher.UserStream(userId), new Envelope<T>(type, data, Sender), exceptConnection: null, Closing);

    /// <summary>
    /// Joins the connection's user's own stream, where messages to the user (<see cref="SendToUserAsync"/>) arrive:
    /// one subscription per connected user per instance, as SignalR's users have. Nothing on it is stored.
    /// </summary>
    internal async ValueTask JoinUserStreamAsync()
    {
        var stream = StreamPublisher.UserStream(UserId);
        var membership = new StreamMembership(stream, Connection, NoHistory.Instance, _logger);
        _streams.Add(membership);
        _hub.Add(stream, membership);
        await _bus.SubscribeAsync(stream, Closing);
    }

    /// <summary>A <c>resume</c> on the open socket: what was stored after <paramref name="since"/> and this socket has not delivered, then <c>resumed</c>.</summary>
    internal ValueTask ResumeAsync(long since) => ReplayAsync([.. _streams.Where(membership => membership.Stream.Kind != StreamPublisher.UserStreamKind)], since);

    internal async ValueTask LeaveAllAsync()
    {
        foreach (var membership in _streams)
        {
            _hub.Remove(membership.Stream, membership);
            await _bus.UnsubscribeAsync(membership.Stream, CancellationToken.None);
        }

        _streams.Clear();
        // Off the hub first: the socket that leaves is not told it left.
        foreach (var stream in _presenceOn)
        {
            await _presence.LeaveAsync(stream, Connection);
        }

        _presenceOn.Clear();
    }

    /// <summary>
    /// Replays each stream after <paramref name="since"/>, then tells the client how it went: <c>resumed</c>, or
    /// <c>invalid_message</c> for a <c>since</c> past every stream's newest message (the socket goes on live).
    /// A store that cannot be read closes the socket with 1012, so that the client tries again.
    /// </summary>
    private async ValueTask ReplayAsync(IReadOnlyList<StreamMembership> memberships, long since)
    {
        var recovered = true;
        var beyondHead = false;
        try
        {
            foreach (var membership in memberships)
            {
                var outcome = await membership.ReplayAsync(since, Closing);
                recovered &= outcome == ReplayOutcome.Recovered;
                beyondHead |= outcome == ReplayOutcome.BeyondHead;
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !Closing.IsCancellationRequested)
        {
            Log.ReplayFailed(_logger, exception, Connection.Id);
            Connection.Close(CloseCodes.ServiceRestart, StreamMembership.CloseReason);
            return;
        }

        if (beyondHead)
        {
            SendError(ErrorCodes.InvalidMessage, $"'since' is past the newest message ({since}): it is a message id from 0 to the stream's newest.");
        }
        else
        {
            Connection.TrySend(new ResumedMessage(recovered), RealtimeJsonContext.Default.ResumedMessage);
        }

        foreach (var membership in memberships)
        {
            membership.EndReplay();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Could not replay stored messages to connection {ConnectionId}; closing it with 1012")]
        public static partial void ReplayFailed(ILogger logger, Exception exception, string connectionId);
    }
}

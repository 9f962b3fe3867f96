using System.Text.Json;
using Microsoft.AspNetCore.Routing;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// The application's side of a WebSocket endpoint: what to join when a client connects, what to do with
/// each message it sends, what to clean up when it leaves. One instance serves one connection, created
/// from the request's services. Messages arrive one at a time, in order.
/// </summary>
public abstract class WebSocketConsumer
{
    /// <summary>Called once the socket is accepted and the welcome sent: join streams here.</summary>
    public virtual ValueTask OnConnectedAsync(ConsumerContext context) => ValueTask.CompletedTask;

    /// <summary>
    /// Called for each client message whose <c>type</c> the realtime layer does not handle itself
    /// (<c>ping</c>, <c>resume</c>, <c>auth.refresh</c>). Return false for a type this consumer does not
    /// know (the client gets <c>unknown_type</c>); throw <see cref="InvalidMessageException"/> for a known
    /// type with a bad body (<c>invalid_message</c>).
    /// </summary>
    public virtual ValueTask<bool> OnMessageAsync(ConsumerContext context, IncomingMessage message) => ValueTask.FromResult(false);

    /// <summary>Called once when the connection has closed, whoever closed it.</summary>
    public virtual ValueTask OnDisconnectedAsync(ConsumerContext context) => ValueTask.CompletedTask;
}

/// <summary>What a consumer knows of its connection: who, which route, and how to talk back.</summary>
public sealed class ConsumerContext
{
    private readonly StreamHub _hub;
    private readonly IMessageBus _bus;
    private readonly ConnectionAuthorityChecks _authority;
    private readonly List<StreamMembership> _streams = [];

    internal ConsumerContext(
        RealtimeConnection connection, HttpContext httpContext, StreamHub hub, IMessageBus bus, ConnectionAuthorityChecks authority, long? since)
    {
        Connection = connection;
        HttpContext = httpContext;
        _hub = hub;
        _bus = bus;
        _authority = authority;
        Since = since;
    }

    internal RealtimeConnection Connection { get; }

    internal HttpContext HttpContext { get; }

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
    /// Joins <paramref name="stream"/>: from now on every message published to it reaches this client.
    /// When the client connected with <c>since</c>, the stored messages after it are sent first. The
    /// connection's authority is confirmed once it is on the stream; a connection that lost it is closed.
    /// </summary>
    public async ValueTask JoinAsync(string stream, IStreamHistory? history = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(stream);
        history ??= NoHistory.Instance;

        var membership = new StreamMembership(stream, Connection, history);
        if (Since is { } since)
        {
            membership.BeginReplay();
            membership.StartAfter(since);
        }
        else if (_bus.MayLoseMessages && history is not NoHistory)
        {
            // Where a catch-up after an outage of the bus would start: the stream's newest stored message,
            // read before the socket is on the hub, so that no catch-up can find it without one.
            membership.StartAfter(await history.LatestIdAsync(stream, Closing));
        }

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

        if (Since is { } resumeAfter)
        {
            await ReplayAsync(membership, resumeAfter);
        }
    }

    /// <summary>Sends a message to this client only. It is serialized with the web defaults (camelCase).</summary>
    public bool Send<T>(T message) => Connection.TrySend(JsonSerializer.SerializeToUtf8Bytes(message, JsonSerializerOptions.Web));

    /// <summary>Replies with an <c>error</c> message; the socket stays open.</summary>
    public void SendError(string code, string detail) => Connection.TrySend(new ErrorMessage(code, detail), RealtimeJsonContext.Default.ErrorMessage);

    /// <summary>Sends the stored messages after <paramref name="since"/> on every joined stream, then <c>resumed</c>.</summary>
    internal async ValueTask ResumeAsync(long since)
    {
        var recovered = true;
        foreach (var membership in _streams)
        {
            membership.BeginReplay();
            recovered &= await membership.ReplayAsync(since, Closing);
        }

        Connection.TrySend(new ResumedMessage(recovered), RealtimeJsonContext.Default.ResumedMessage);
    }

    internal async ValueTask LeaveAllAsync()
    {
        foreach (var membership in _streams)
        {
            _hub.Remove(membership.Stream, membership);
            await _bus.UnsubscribeAsync(membership.Stream, CancellationToken.None);
        }

        _streams.Clear();
    }

    private async ValueTask ReplayAsync(StreamMembership membership, long since)
    {
        var recovered = await membership.ReplayAsync(since, Closing);
        Connection.TrySend(new ResumedMessage(recovered), RealtimeJsonContext.Default.ResumedMessage);
    }
}

/// <summary>A client message: its <c>type</c> and its JSON body.</summary>
public sealed class IncomingMessage(string type, JsonElement body)
{
    public string Type { get; } = type;

    /// <summary>The whole message object, <c>type</c> included.</summary>
    public JsonElement Body { get; } = body;

    /// <summary>Reads the body as <typeparamref name="T"/> (web defaults: camelCase), or throws <see cref="InvalidMessageException"/>.</summary>
    public T Read<T>()
    {
        try
        {
            return Body.Deserialize<T>(JsonSerializerOptions.Web)
                ?? throw new InvalidMessageException($"A '{Type}' message must be a JSON object.");
        }
        catch (JsonException exception)
        {
            throw new InvalidMessageException($"The '{Type}' message does not have the expected shape: {exception.Message}");
        }
    }
}

/// <summary>Thrown by a consumer for a message of a known type whose body is wrong; the client gets <c>invalid_message</c>.</summary>
public sealed class InvalidMessageException(string detail) : Exception(detail);

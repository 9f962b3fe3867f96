using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using WsAuth.Bench.Servers;

namespace WsAuth.Bench.Load;

/// <summary>How the generator speaks to one kind of server: URLs, credentials, readiness, echo and publishing.</summary>
internal abstract class WireProtocol
{
    protected static readonly MediaTypeHeaderValue Json = new("application/json");

    public abstract Uri SocketUri(Uri server, SocketTarget target);

    public virtual void Configure(ClientWebSocketOptions options, SocketTarget target)
    {
    }

    /// <summary>Sent right after the upgrade (SignalR's handshake request).</summary>
    public virtual ReadOnlyMemory<byte> Opening => ReadOnlyMemory<byte>.Empty;

    /// <summary>Sent every few seconds on every socket, when the server needs to hear from idle clients.</summary>
    public virtual ReadOnlyMemory<byte> KeepAlive => ReadOnlyMemory<byte>.Empty;

    /// <summary>Whether the record is the protocol's own keep-alive (SignalR's ping), which no scenario counts.</summary>
    public virtual bool IsKeepAlive(ReadOnlySpan<byte> record) => false;

    /// <summary>Whether this first message from the server means the connection is established.</summary>
    public abstract bool IsReady(ReadOnlySpan<byte> record);

    /// <summary>Splits a message into records (SignalR packs several per frame) and hands each to the socket.</summary>
    public virtual void Dispatch(BenchSocket socket, ReadOnlySpan<byte> message) => socket.OnRecord(message);

    public abstract byte[] Ping(long id);

    public abstract bool TryReadPong(ReadOnlySpan<byte> record, out long id);

    /// <summary>A publish sent over a publisher's own socket (the event goes to the socket's organization).</summary>
    public abstract byte[] SocketPublish(SocketTarget publisher, long timestamp, long sequence);

    public abstract HttpRequestMessage HttpPublish(BenchOrg org, long timestamp, long sequence);

    public abstract HttpRequestMessage Notify(BenchUser recipient, World world, long timestamp, long sequence);

    protected static Uri WebSocketUri(Uri server, string path, string query = "") =>
        new UriBuilder(server) { Scheme = "ws", Path = path, Query = query }.Uri;

    protected static StringContent JsonBody(string json) => new(json, Encoding.UTF8, Json);

    protected static HttpRequestMessage Post(string path, string json, string? bearer)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonBody(json) };
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }

        return request;
    }
}

/// <summary>
/// The generated app: the token in the Authorization header, <c>/ws/notifications</c> and
/// <c>/ws/events/{orgId}</c>, ready at <c>welcome</c>, <c>ping</c>/<c>pong</c>, <c>publish</c> on the socket,
/// <c>POST /api/orgs/{orgId}/events</c> as a member and <c>POST /api/notifications</c> as an admin.
/// </summary>
internal sealed class SubjectProtocol : WireProtocol
{
    public override Uri SocketUri(Uri server, SocketTarget target) => WebSocketUri(server, target.Endpoint == Endpoint.Organization
        ? $"/ws/events/{target.Org!.IdText}"
        : "/ws/notifications", target.Since is { } since ? $"since={since}" : "");

    public override void Configure(ClientWebSocketOptions options, SocketTarget target) =>
        options.SetRequestHeader("Authorization", $"Bearer {target.User.Token}");

    public override bool IsReady(ReadOnlySpan<byte> record) => record.IndexOf("\"type\":\"welcome\""u8) >= 0;

    public override byte[] Ping(long id) => Encoding.UTF8.GetBytes($$"""{"type":"ping","id":{{id}}}""");

    public override bool TryReadPong(ReadOnlySpan<byte> record, out long id)
    {
        id = 0;
        return record.StartsWith("{\"type\":\"pong\""u8) && Payload.TryReadNumber(record, "\"id\":"u8, out id);
    }

    public override byte[] SocketPublish(SocketTarget publisher, long timestamp, long sequence) =>
        Encoding.UTF8.GetBytes($$"""{"type":"publish","event":"bench","data":{{Payload.Data(timestamp)}}}""");

    public override HttpRequestMessage HttpPublish(BenchOrg org, long timestamp, long sequence) =>
        Post($"/api/orgs/{org.IdText}/events", $$"""{"type":"bench","data":{{Payload.Data(timestamp)}}}""", org.Admin.Token);

    public override HttpRequestMessage Notify(BenchUser recipient, World world, long timestamp, long sequence) =>
        Post("/api/notifications",
            $$"""{"userId":"{{recipient.IdText}}","title":"bench","body":"{{Payload.Pad}}","data":{{Payload.Data(timestamp)}}}""",
            world.Admin.Token);
}

/// <summary>
/// ASP.NET Core SignalR's JSON hub protocol over a raw WebSocket, with negotiation skipped: the same bytes the
/// official client sends on its WebSockets transport (handshake, record separator 0x1E, pings, invocations),
/// without its per-connection machinery, so that the generator's cost per socket is the same for every server.
/// </summary>
internal sealed class SignalRProtocol : WireProtocol
{
    private const byte RecordSeparator = 0x1E;

    private static readonly byte[] Handshake = Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e");
    private static readonly byte[] PingMessage = Encoding.UTF8.GetBytes("{\"type\":6}\u001e");

    public override Uri SocketUri(Uri server, SocketTarget target)
    {
        var query = $"access_token={Uri.EscapeDataString(target.User.Token)}";
        if (target.Endpoint == Endpoint.Organization)
        {
            query += $"&orgId={target.Org!.IdText}";
        }

        return WebSocketUri(server, "/hubs/realtime", query);
    }

    public override ReadOnlyMemory<byte> Opening => Handshake;

    public override ReadOnlyMemory<byte> KeepAlive => PingMessage;

    public override bool IsReady(ReadOnlySpan<byte> record) => record.SequenceEqual("{}"u8);

    public override bool IsKeepAlive(ReadOnlySpan<byte> record) => record.SequenceEqual("{\"type\":6}"u8);

    public override void Dispatch(BenchSocket socket, ReadOnlySpan<byte> message)
    {
        while (!message.IsEmpty)
        {
            var end = message.IndexOf(RecordSeparator);
            var record = end < 0 ? message : message[..end];
            if (!record.IsEmpty)
            {
                socket.OnRecord(record);
            }

            message = end < 0 ? [] : message[(end + 1)..];
        }
    }

    public override byte[] Ping(long id) =>
        Encoding.UTF8.GetBytes($$"""{"type":1,"invocationId":"{{id}}","target":"Echo","arguments":[{{id}}]}""" + "\u001e");

    public override bool TryReadPong(ReadOnlySpan<byte> record, out long id)
    {
        id = 0;
        return record.StartsWith("{\"type\":3,"u8) && Payload.TryReadNumber(record, "\"result\":"u8, out id);
    }

    public override byte[] SocketPublish(SocketTarget publisher, long timestamp, long sequence) =>
        Encoding.UTF8.GetBytes($$"""{"type":1,"target":"Publish","arguments":["bench",{{Payload.Data(timestamp)}}]}""" + "\u001e");

    public override HttpRequestMessage HttpPublish(BenchOrg org, long timestamp, long sequence) =>
        Post($"/publish/org/{org.IdText}", $$"""{"type":"bench","data":{{Payload.Data(timestamp)}}}""", org.Admin.Token);

    public override HttpRequestMessage Notify(BenchUser recipient, World world, long timestamp, long sequence) =>
        Post("/publish/notifications",
            $$"""{"userId":"{{recipient.IdText}}","title":"bench","body":"{{Payload.Pad}}","data":{{Payload.Data(timestamp)}}}""",
            world.Admin.Token);
}

/// <summary>
/// The floor: no credential, a pre-serialised welcome, echo of whatever arrives, and publishes that carry the
/// finished frame (the same envelope and size as the subject's <c>org.event</c> and <c>notification</c>).
/// </summary>
internal sealed class BareProtocol : WireProtocol
{
    public override Uri SocketUri(Uri server, SocketTarget target)
    {
        var query = target.Endpoint == Endpoint.Organization
            ? $"org={target.Org!.IdText}" + (target.Publisher ? "&publish=1" : "")
            : $"user={target.User.IdText}";
        return WebSocketUri(server, "/ws", query);
    }

    public override bool IsReady(ReadOnlySpan<byte> record) => record.IndexOf("\"type\":\"welcome\""u8) >= 0;

    public override byte[] Ping(long id) => Encoding.UTF8.GetBytes($$"""{"type":"ping","id":{{id}}}""");

    public override bool TryReadPong(ReadOnlySpan<byte> record, out long id) => Payload.TryReadNumber(record, "\"id\":"u8, out id);

    public override byte[] SocketPublish(SocketTarget publisher, long timestamp, long sequence) =>
        Encoding.UTF8.GetBytes(OrgEvent(publisher.Org!, publisher.User, timestamp, sequence));

    public override HttpRequestMessage HttpPublish(BenchOrg org, long timestamp, long sequence) =>
        Post($"/publish/org/{org.IdText}", OrgEvent(org, org.Admin, timestamp, sequence), bearer: null);

    public override HttpRequestMessage Notify(BenchUser recipient, World world, long timestamp, long sequence) =>
        Post($"/publish/user/{recipient.IdText}",
            $$"""{"type":"notification","id":{{sequence}},"title":"bench","body":"{{Payload.Pad}}","data":{{Payload.Data(timestamp)}},"createdAt":"{{Payload.Now()}}"}""",
            bearer: null);

    private static string OrgEvent(BenchOrg org, BenchUser sender, long timestamp, long sequence) =>
        $$"""{"type":"org.event","id":{{sequence}},"orgId":"{{org.IdText}}","event":"bench","data":{{Payload.Data(timestamp)}},"sender":{"id":"{{sender.IdText}}","username":"{{sender.Name}}"},"createdAt":"{{Payload.Now()}}"}""";
}

using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Company.RealtimeApp1.Organizations;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// A published notification or org event must fit in one socket message (<c>WebSockets:MaxMessageBytes</c>,
/// 64 KiB by default) before it is stored; otherwise it would close every subscriber as a slow consumer,
/// now and on every resume.
/// </summary>
public sealed class PublishedMessageLimitTests(RealtimeApplication app) : IClassFixture<RealtimeApplication>
{
    private const int Limit = 64 * 1024;

    // The frame is counted with the widest id and timestamp it could be stored with.
    private const string WidestId = "9223372036854775807";
    private const string WidestTime = "9999-12-31T23:59:59.9999999+00:00";

    private const string BodyTooLarge =
        """{"error":"message_too_large","detail":"A request body may be at most 65536 bytes (WebSockets:MaxMessageBytes)."}""";

    [Fact]
    public async Task AnEventWhoseFrameIsOneByteOverTheLimitIs413AndNotStored()
    {
        var (org, admin, member) = await CreateOrganizationAsync(app);
        var data = new string('x', EventDataLength(org.Id, admin, Limit + 1));

        using var response = await app.CreateClient(admin.Token).PostAsJsonAsync(
            $"/api/orgs/{org.Id}/events", new { type = "e", data });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(
            """{"error":"message_too_large","detail":"The 'org.event' message would be up to 65537 bytes; a message may be at most 65536 bytes (WebSockets:MaxMessageBytes)."}""",
            await response.Content.ReadAsStringAsync());
        await AssertNoEventStoredAsync(app, org.Id, member);
    }

    [Fact]
    public async Task AnEventWhoseFrameIsExactlyTheLimitIsDeliveredLiveAndTheSocketStaysOpen()
    {
        var (org, admin, member) = await CreateOrganizationAsync(app);
        await using var socket = await app.ConnectAsync($"/ws/events/{org.Id}", member.Token);
        await socket.ReceiveJsonAsync("welcome");
        var data = new string('x', EventDataLength(org.Id, admin, Limit));

        using var response = await app.CreateClient(admin.Token).PostAsJsonAsync(
            $"/api/orgs/{org.Id}/events", new { type = "e", data });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var received = await socket.ReceiveJsonAsync("org.event");
        Assert.Equal(id, received.GetProperty("id").GetInt64());
        Assert.Equal(data, received.GetProperty("data").GetString());
        await AssertOpenAsync(socket);
    }

    [Fact]
    public async Task ANotificationWhoseFrameIsOneByteOverTheLimitIs413AndNotStored()
    {
        var admin = await app.CreateSignedInUserAsync("admin");
        var recipient = await app.CreateSignedInUserAsync();
        var body = new string('b', 4000);
        var data = new string('x', NotificationDataLength("t", body, Limit + 1));

        using var response = await app.CreateClient(admin.Token).PostAsJsonAsync(
            "/api/notifications", new { userId = recipient.Id, title = "t", body, data });

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(
            """{"error":"message_too_large","detail":"The 'notification' message would be up to 65537 bytes; a message may be at most 65536 bytes (WebSockets:MaxMessageBytes)."}""",
            await response.Content.ReadAsStringAsync());
        Assert.Equal("[]", await app.CreateClient(recipient.Token).GetStringAsync("/api/notifications"));
        await using var socket = await app.ConnectAsync("/ws/notifications?since=0", recipient.Token);
        await socket.ReceiveJsonAsync("welcome");
        await socket.ReceiveJsonAsync("resumed");
    }

    [Fact]
    public async Task ANotificationWhoseFrameIsExactlyTheLimitIsDeliveredLiveAndTheSocketStaysOpen()
    {
        var admin = await app.CreateSignedInUserAsync("admin");
        var recipient = await app.CreateSignedInUserAsync();
        await using var socket = await app.ConnectAsync("/ws/notifications", recipient.Token);
        await socket.ReceiveJsonAsync("welcome");
        var data = new string('x', NotificationDataLength("t", "b", Limit));

        using var response = await app.CreateClient(admin.Token).PostAsJsonAsync(
            "/api/notifications", new { userId = recipient.Id, title = "t", body = "b", data });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var received = await socket.ReceiveJsonAsync("notification");
        Assert.Equal(id, received.GetProperty("id").GetInt64());
        Assert.Equal(data, received.GetProperty("data").GetString());
        await AssertOpenAsync(socket);
    }

    [Theory]
    [InlineData("Testing", true)]
    [InlineData("Testing", false)]
    [InlineData("Development", true)]
    [InlineData("Development", false)]
    public async Task AHugeEventBodyIs413WithoutAContentLengthToo(string environment, bool withContentLength)
    {
        using var target = RealtimeApplication.With([], environment);
        var (org, admin, member) = await CreateOrganizationAsync(target);

        using var response = await target.CreateClient(admin.Token).PostAsync(
            $"/api/orgs/{org.Id}/events", HugeJsonBody("""{"type":"e","data":""", withContentLength));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(BodyTooLarge, await response.Content.ReadAsStringAsync());
        await AssertNoEventStoredAsync(target, org.Id, member);
    }

    [Theory]
    [InlineData("Testing", true)]
    [InlineData("Testing", false)]
    [InlineData("Development", true)]
    [InlineData("Development", false)]
    public async Task AHugeNotificationBodyIs413WithoutAContentLengthToo(string environment, bool withContentLength)
    {
        using var target = RealtimeApplication.With([], environment);
        var admin = await target.CreateSignedInUserAsync("admin");
        var recipient = await target.CreateSignedInUserAsync();

        using var response = await target.CreateClient(admin.Token).PostAsync(
            "/api/notifications", HugeJsonBody($$"""{"userId":"{{recipient.Id}}","title":"t","body":"b","data":""", withContentLength));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(BodyTooLarge, await response.Content.ReadAsStringAsync());
        Assert.Equal("[]", await target.CreateClient(recipient.Token).GetStringAsync("/api/notifications"));
    }

    [Theory]
    [InlineData("Testing")]
    [InlineData("Development")]
    public async Task AnEventBodyThatIsNotJsonIs400WithAJsonBody(string environment)
    {
        using var target = RealtimeApplication.With([], environment);
        var (org, admin, _) = await CreateOrganizationAsync(target);
        using var content = new StringContent("{\"type\":", Encoding.UTF8, "application/json");

        using var response = await target.CreateClient(admin.Token).PostAsync($"/api/orgs/{org.Id}/events", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Equal("The body is not the expected JSON object.", problem.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task ASocketPublishWhoseFrameWouldBeTooLargeIsAnInvalidMessageAndTheSocketStaysOpen()
    {
        var (org, _, member) = await CreateOrganizationAsync(app);
        await using var socket = await app.ConnectAsync($"/ws/events/{org.Id}", member.Token);
        await socket.ReceiveJsonAsync("welcome");
        // The client's message fits its own limit; the frame the server would broadcast does not.
        var data = new string('x', Limit - 100);
        var frameBytes = EventFrameLength(org.Id, member, "e", data.Length);

        await socket.SendJsonAsync(new { type = "publish", @event = "e", data });
        var error = await socket.ReceiveJsonAsync("error");

        Assert.Equal("invalid_message", error.GetProperty("code").GetString());
        Assert.Equal(
            $"The 'org.event' message would be up to {frameBytes} bytes; a message may be at most 65536 bytes (WebSockets:MaxMessageBytes).",
            error.GetProperty("detail").GetString());
        await AssertOpenAsync(socket);
        await AssertNoEventStoredAsync(app, org.Id, member);
    }

    /// <summary>The length of a string <c>data</c> that makes the org event's frame exactly <paramref name="frameBytes"/> long.</summary>
    private static int EventDataLength(Guid orgId, TestUser sender, int frameBytes) =>
        frameBytes - EventFrameLength(orgId, sender, "e", 0);

    private static int EventFrameLength(Guid orgId, TestUser sender, string type, int dataLength) => Encoding.UTF8.GetByteCount(
        $$"""{"type":"org.event","id":{{WidestId}},"orgId":"{{orgId}}","event":"{{type}}","data":"{{new string('x', dataLength)}}","sender":{"id":"{{sender.Id}}","username":"{{sender.UserName}}"},"createdAt":"{{WidestTime}}"}""");

    /// <summary>The length of a string <c>data</c> that makes the notification's frame exactly <paramref name="frameBytes"/> long.</summary>
    private static int NotificationDataLength(string title, string body, int frameBytes) => frameBytes - Encoding.UTF8.GetByteCount(
        $$"""{"type":"notification","id":{{WidestId}},"title":"{{title}}","body":"{{body}}","data":"","createdAt":"{{WidestTime}}"}""");

    /// <summary>A 5 MiB JSON body, sent with a Content-Length or chunked.</summary>
    private static HttpContent HugeJsonBody(string prefix, bool withContentLength)
    {
        var json = Encoding.UTF8.GetBytes(prefix + new string('x', 5 * 1024 * 1024) + "\"}");
        HttpContent content = withContentLength ? new ByteArrayContent(json) : new StreamContent(new UnknownLengthStream(json));
        content.Headers.ContentType = new("application/json");
        return content;
    }

    private static async Task AssertOpenAsync(TestSocket socket)
    {
        await socket.SendJsonAsync(new { type = "ping" });
        await socket.ReceiveJsonAsync("pong");
    }

    /// <summary>A socket resuming from the start replays no event: nothing was stored.</summary>
    private static async Task AssertNoEventStoredAsync(RealtimeApplication target, Guid orgId, TestUser member)
    {
        await using var socket = await target.ConnectAsync($"/ws/events/{orgId}?since=0", member.Token);
        await socket.ReceiveJsonAsync("welcome");
        await socket.ReceiveJsonAsync("resumed");
    }

    private static async Task<(Organizations.Organization Org, TestUser Admin, TestUser Member)> CreateOrganizationAsync(RealtimeApplication target)
    {
        var admin = await target.CreateSignedInUserAsync();
        var member = await target.CreateSignedInUserAsync();
        var org = await target.CreateOrganizationAsync(
            "size-" + Guid.NewGuid().ToString("N")[..8], (admin.UserName, OrganizationRole.Admin), (member.UserName, OrganizationRole.Member));
        return (org, admin, member);
    }

    /// <summary>A stream that hides its length, so that HttpClient sends it chunked.</summary>
    private sealed class UnknownLengthStream(byte[] bytes) : Stream
    {
        private readonly MemoryStream _inner = new(bytes);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _inner.Position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

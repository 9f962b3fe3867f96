using System.Net;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.WebSockets;
using Microsoft.Extensions.Hosting;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// Every close the server starts ends with the close handshake: the server reads and discards what the
/// client still sends until the client's close frame, so a client that keeps sending, and reads only
/// afterwards, still reads the close code (never a reset connection, 1006).
/// </summary>
public sealed class CloseHandshakeTests(RealtimeApplication app) : IClassFixture<RealtimeApplication>
{
    private const int Flood = 200;

    [Fact]
    public async Task AClientThatFloodsWithoutReadingReadsThePongsItEarnedInOrderThen4029()
    {
        await using var socket = await ConnectEchoAsync(app);
        await socket.ReceiveJsonAsync("welcome");

        await FloodAsync(socket);
        var (messages, code, reason) = await ReadToCloseAsync(socket);

        Assert.Equal((4029, "too many messages"), (code, reason));
        Assert.All(messages, message => Assert.Equal("pong", message.GetProperty("type").GetString()));
        Assert.Equal(Enumerable.Range(0, messages.Count), messages.Select(message => message.GetProperty("id").GetInt32()));
        Assert.InRange(messages.Count, 40, 45);
    }

    [Fact]
    public async Task AClientThatKeepsSendingAfterAMessageOverTheLimitReads1009()
    {
        await using var socket = await ConnectEchoAsync(app);
        await socket.ReceiveJsonAsync("welcome");

        await socket.SendTextAsync($$"""{"type":"ping","pad":"{{new string('x', 64 * 1024)}}"}""");
        await FloodAsync(socket);

        Assert.Equal(("", 1009, "message too big"), await ReadTypesToCloseAsync(socket));
    }

    [Fact]
    public async Task AClientThatKeepsSendingAfterABinaryFrameReads1003()
    {
        await using var socket = await ConnectEchoAsync(app);
        await socket.ReceiveJsonAsync("welcome");

        await socket.Socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        await FloodAsync(socket);

        Assert.Equal(("", 1003, "binary messages are not supported"), await ReadTypesToCloseAsync(socket));
    }

    [Fact]
    public async Task AClientThatDoesNotReadAndKeepsSendingReadsItsPongsThen1008SlowConsumer()
    {
        using var small = RealtimeApplication.With(new()
        {
            ["WebSockets:OutboundQueueMessages"] = "32",
            ["WebSockets:MessagesPerSecond"] = "100000",
            ["WebSockets:MessageBurst"] = "100000",
        });
        await using var socket = await ConnectEchoAsync(small);
        var connectionId = await socket.ReadConnectionIdAsync();

        // Pings whose pongs are large and never read: the queue behind the full TCP buffers overflows.
        var ping = JsonSerializer.Serialize(new { type = "ping", id = new string('x', 16 * 1024) });
        var sent = 0;
        while (!IsClosing(small, connectionId) && sent < 5000)
        {
            await socket.SendTextAsync(ping);
            sent++;
        }

        await FloodAsync(socket);
        var (messages, code, reason) = await ReadToCloseAsync(socket);

        Assert.True(IsClosing(small, connectionId), $"The server had not closed the socket after {sent} pings.");
        Assert.Equal((1008, "slow consumer"), (code, reason));
        Assert.All(messages, message => Assert.Equal("pong", message.GetProperty("type").GetString()));
    }

    [Fact]
    public async Task AClientThatKeepsSendingAfterItsTokenExpiredReads4001TokenExpired()
    {
        var (userName, _) = await app.SignInNewUserAsync();
        var token = await app.ForgeAsync(userName, expires: DateTime.UtcNow.AddSeconds(2));
        await using var socket = await app.ConnectAsync(EchoConsumer.Path, token);
        var connectionId = await socket.ReadConnectionIdAsync();

        await WaitUntilClosingAsync(app, connectionId);
        await FloodAsync(socket);
        var (_, code, reason) = await ReadToCloseAsync(socket);

        Assert.Equal((4001, "token expired"), (code, reason));
    }

    [Fact]
    public async Task AClientThatKeepsSendingAfterItsCredentialsChangedReads4001CredentialsChanged()
    {
        var (userName, token) = await app.SignInNewUserAsync();
        await using var socket = await app.ConnectAsync(EchoConsumer.Path, token);
        var connectionId = await socket.ReadConnectionIdAsync();

        await app.ChangeUserAsync(userName, (users, user) => users.UpdateSecurityStampAsync(user));
        await WaitUntilClosingAsync(app, connectionId);
        await FloodAsync(socket);

        Assert.Equal(("", 4001, "credentials changed"), await ReadTypesToCloseAsync(socket));
    }

    [Fact]
    public async Task AClientThatKeepsSendingAfterItsMembershipWasRemovedReads4003()
    {
        var (adminName, adminToken) = await app.SignInNewUserAsync();
        var (memberName, memberToken) = await app.SignInNewUserAsync();
        var org = await app.CreateOrganizationAsync("close-" + Guid.NewGuid().ToString("N")[..8],
            (adminName, OrganizationRole.Admin), (memberName, OrganizationRole.Member));
        await using var socket = await app.ConnectAsync(PresenceConsumer.PathFor(org.Id), memberToken);
        var connectionId = await socket.ReadConnectionIdAsync();

        using var removed = await app.CreateClient(adminToken).DeleteAsync($"/api/orgs/{org.Id}/members/{new JsonWebToken(memberToken).Subject}");
        await WaitUntilClosingAsync(app, connectionId);
        await FloodAsync(socket);

        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal(("", 4003, "membership removed"), await ReadTypesToCloseAsync(socket));
    }

    [Fact]
    public async Task AClientThatKeepsSendingWhileTheApplicationStopsReads1001()
    {
        using var stopping = new RealtimeApplication();
        await using var socket = await ConnectEchoAsync(stopping);
        var connectionId = await socket.ReadConnectionIdAsync();

        stopping.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();
        await WaitUntilClosingAsync(stopping, connectionId);
        await FloodAsync(socket);

        Assert.Equal(("", 1001, "server shutting down"), await ReadTypesToCloseAsync(socket));
    }

    [Fact]
    public async Task AClientOverTheConnectionCapThatKeepsSendingReads4029()
    {
        using var capped = RealtimeApplication.With(new() { ["WebSockets:MaxConnectionsPerUser"] = "1" });
        var (_, token) = await capped.SignInNewUserAsync();
        await using var first = await capped.ConnectAsync(EchoConsumer.Path, token);
        await first.ReceiveJsonAsync("welcome");

        await using var second = await capped.ConnectAsync(EchoConsumer.Path, token);
        await FloodAsync(second);

        Assert.Equal(("", 4029, "too many connections"), await ReadTypesToCloseAsync(second));
    }

    [Fact]
    public async Task ARefusedClientThatKeepsSendingReadsItsAuthMessageThen4001()
    {
        await using var socket = await app.ConnectAsync(EchoConsumer.Path);

        await FloodAsync(socket);

        Assert.Equal(("auth", 4001, "unauthorized"), await ReadTypesToCloseAsync(socket));
    }

    [Fact]
    public async Task AForbiddenClientThatKeepsSendingReadsItsAuthMessageThen4003()
    {
        var org = await app.CreateOrganizationAsync("closed-" + Guid.NewGuid().ToString("N")[..8]);
        var (_, token) = await app.SignInNewUserAsync();
        await using var socket = await app.ConnectAsync(PresenceConsumer.PathFor(org.Id), token);

        await FloodAsync(socket);

        Assert.Equal(("auth", 4003, "forbidden"), await ReadTypesToCloseAsync(socket));
    }

    [Fact]
    public async Task AClientThatNeverAnswersTheCloseIsDroppedAfterTheCloseTimeout()
    {
        using var impatient = RealtimeApplication.With(new() { ["WebSockets:CloseTimeout"] = "00:00:01" });
        await using var socket = await ConnectEchoAsync(impatient);
        var connectionId = await socket.ReadConnectionIdAsync();
        await socket.Socket.SendAsync(new byte[] { 1 }, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        Assert.Equal((1003, "binary messages are not supported"), await socket.ReceiveCloseAsync());

        // The client reads the close but never answers it, and keeps sending, which the server discards.
        var dropped = await Assert.ThrowsAsync<WebSocketException>(async () =>
        {
            using var bound = new CancellationTokenSource(TestSocket.Timeout);
            while (true)
            {
                await socket.Socket.SendAsync(Encoding.UTF8.GetBytes("""{"type":"ping"}"""), WebSocketMessageType.Text, true, bound.Token);
                await Task.Delay(50, bound.Token);
            }
        });

        Assert.NotNull(dropped);
        // The server logs the close once it has cleaned up, a moment after the client saw the connection go.
        using var bound = new CancellationTokenSource(TestSocket.Timeout);
        while (!impatient.Logs.GetSnapshot().Any(record => record.Message.StartsWith($"Connection {connectionId} closed", StringComparison.Ordinal)))
        {
            await Task.Delay(20, bound.Token);
        }
    }

    private static async Task<TestSocket> ConnectEchoAsync(RealtimeApplication app)
    {
        var (_, token) = await app.SignInNewUserAsync();
        return await app.ConnectAsync(EchoConsumer.Path, token);
    }

    /// <summary>Sends <see cref="Flood"/> pings in one burst without reading; stops at a send that fails.</summary>
    private static async Task FloodAsync(TestSocket socket)
    {
        for (var i = 0; i < Flood; i++)
        {
            try
            {
                await socket.SendJsonAsync(new { type = "ping", id = i });
            }
            catch (WebSocketException)
            {
                // The server dropped the connection: what the client can still read is asserted next.
                return;
            }
        }
    }

    /// <summary>Reads every message up to the close frame, then answers the close as a well-behaved client does.</summary>
    private static async Task<(List<JsonElement> Messages, int Code, string? Reason)> ReadToCloseAsync(TestSocket socket)
    {
        var messages = new List<JsonElement>();
        while (true)
        {
            var (type, payload) = await socket.ReceiveAsync();
            if (type == WebSocketMessageType.Close)
            {
                break;
            }

            messages.Add(JsonDocument.Parse(payload).RootElement.Clone());
        }

        using (var timeout = new CancellationTokenSource(TestSocket.Timeout))
        {
            await socket.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);
        }

        return (messages, (int)socket.Socket.CloseStatus!, socket.Socket.CloseStatusDescription);
    }

    /// <summary>The types of the messages up to the close, apart from the welcome, the pongs and the expiry warning.</summary>
    private static async Task<(string Types, int Code, string? Reason)> ReadTypesToCloseAsync(TestSocket socket)
    {
        var (messages, code, reason) = await ReadToCloseAsync(socket);
        var types = string.Join(",", messages.Select(message => message.GetProperty("type").GetString()!)
            .Where(type => type is not ("welcome" or "pong" or "auth.expiring")));
        return (types, code, reason);
    }

    private static bool IsClosing(RealtimeApplication app, string connectionId) =>
        !app.Services.GetRequiredService<ConnectionRegistry>().All
            .Any(connection => connection.Id == connectionId && !connection.Closing.IsCancellationRequested);

    /// <summary>Waits, without reading, until the server has started closing the connection.</summary>
    private static async Task WaitUntilClosingAsync(RealtimeApplication app, string connectionId)
    {
        using var bound = new CancellationTokenSource(TestSocket.Timeout);
        while (!IsClosing(app, connectionId))
        {
            await Task.Delay(10, bound.Token);
        }
    }
}

internal static class WelcomeExtensions
{
    /// <summary>Reads the welcome and returns the connection id the server gave the socket.</summary>
    public static async Task<string> ReadConnectionIdAsync(this TestSocket socket) =>
        (await socket.ReceiveJsonAsync("welcome")).GetProperty("connectionId").GetString()!;
}

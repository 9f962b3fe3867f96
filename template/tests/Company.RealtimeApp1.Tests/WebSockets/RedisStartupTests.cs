using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
#if (examples)
using Company.RealtimeApp1.Consumers;
#endif
using Company.RealtimeApp1.WebSockets.Redis;
using StackExchange.Redis;

namespace Company.RealtimeApp1.Tests;

/// <summary>An instance whose Redis is down when it starts (SPEC §4): it starts, says so on /health, and serves what needs no Redis.</summary>
public sealed class RedisStartupTests
{
    [Fact]
    public async Task AnInstanceStartsWhileRedisIsDownAnswers503OnHealthAndStillSignsInAndServesSockets()
    {
        await using var app = RealtimeApplication.With(new() { ["ConnectionStrings:Redis"] = $"127.0.0.1:{UnusedPort()}" });
        using var client = app.CreateClient();

        using var health = await client.GetAsync("/health");
        var user = await app.CreateSignedInUserAsync();
        await using var socket = await app.ConnectAsync(EchoConsumer.Path, user.Token);
        var welcome = await socket.ReceiveJsonAsync("welcome");
        await socket.SendJsonAsync(new { type = "ping", id = 7 });
        var pong = await socket.ReceiveJsonAsync("pong");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal(user.UserName, welcome.GetProperty("user").GetProperty("username").GetString());
        Assert.Equal(7, pong.GetProperty("id").GetInt32());
    }

#if (examples)
    [Fact]
    public async Task AStreamJoinedWhileRedisWasDownIsSubscribedOnceRedisIsUpAndHearsWhatIsPublished()
    {
        await using var redis = await RedisServer.StartAsync();
        await redis.StopAsync();
        await using var app = RealtimeApplication.With(new() { ["ConnectionStrings:Redis"] = redis.ConnectionString });
        var admin = await app.CreateSignedInUserAsync("admin");
        var recipient = await app.CreateSignedInUserAsync();
        await using var socket = await app.ConnectAsync("/ws/notifications", recipient.Token);
        await socket.ReceiveJsonAsync("welcome");
        await socket.SendJsonAsync(new { type = "ping" });
        await socket.ReceiveJsonAsync("pong");

        await redis.RestartAsync();
        await using var observer = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        var channel = RedisMessageBus.ChannelFor(UserNotifications.StreamOf(recipient.Id));
        await Eventually.HoldsAsync(async () => await RedisServer.SubscribersAsync(observer, channel) == 1);

        using var sent = await app.CreateClient(admin.Token).PostAsJsonAsync(
            "/api/notifications", new { userId = recipient.Id, title = "Back", body = "up" });
        var id = (await sent.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var delivered = await socket.ReceiveJsonAsync("notification");

        Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
        Assert.Equal((id, "Back"), (delivered.GetProperty("id").GetInt64(), delivered.GetProperty("title").GetString()));
    }
#endif

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

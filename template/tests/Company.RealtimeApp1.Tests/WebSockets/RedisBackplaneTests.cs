using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.WebSockets;
using Company.RealtimeApp1.WebSockets.Redis;
using StackExchange.Redis;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// Two instances over one real Redis (SPEC §4): what is published on one reaches sockets on the other,
/// revocations close sockets everywhere, and <c>/health</c> tells whether Redis answers.
/// </summary>
public sealed class RedisBackplaneTests
{
    [Fact]
    public async Task ABurstPublishedOnOneInstanceReachesASocketOnAnotherOnceAndInOrder()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var user = await cluster.A.CreateSignedInUserAsync();
        var name = Guid.NewGuid().ToString("N");
        await using var socket = await cluster.B.JoinedAsync($"{EchoConsumer.Path}/{name}", user.Token);

        var publisher = cluster.A.Services.GetRequiredService<StreamPublisher>();
        for (var n = 1; n <= 50; n++)
        {
            await publisher.PublishAsync(EchoConsumer.StreamFor(name), new BurstMessage("burst", n), BurstJsonContext.Default.BurstMessage);
        }

        var received = new List<int>();
        for (var n = 1; n <= 50; n++)
        {
            received.Add((await socket.ReceiveJsonAsync("burst")).GetProperty("n").GetInt32());
        }

        Assert.Equal(Enumerable.Range(1, 50), received);
        Assert.True(await socket.ReceivesNothingWithinAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task AMessageToOneUserReachesEachOfTheirSocketsOnEveryInstanceAndNobodyElse()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var sender = await cluster.A.CreateSignedInUserAsync();
        var recipient = await cluster.A.CreateSignedInUserAsync();
        await using var from = await cluster.A.JoinedAsync(EchoConsumer.Path, sender.Token);
        await using var onA = await cluster.A.JoinedAsync($"{EchoConsumer.Path}/{Guid.NewGuid():N}", recipient.Token);
        await using var onB = await cluster.B.JoinedAsync(EchoConsumer.Path, recipient.Token);

        await from.SendJsonAsync(new { type = "whisper", to = recipient.Id, text = "psst" });

        foreach (var socket in new[] { onA, onB })
        {
            var whisper = await socket.ReceiveJsonAsync("whisper");
            Assert.Equal("psst", whisper.GetProperty("data").GetProperty("text").GetString());
            Assert.Equal(sender.Id.ToString(), whisper.GetProperty("sender").GetProperty("id").GetString());
            Assert.Equal(sender.UserName, whisper.GetProperty("sender").GetProperty("username").GetString());
        }

        Assert.True(await from.ReceivesNothingWithinAsync(TimeSpan.FromMilliseconds(500)));
    }

#if (examples)
    [Fact]
    public async Task ANotificationSentOnOneInstanceReachesTheRecipientOnAnotherWithItsStoredId()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var admin = await cluster.A.CreateSignedInUserAsync("admin");
        var recipient = await cluster.A.CreateSignedInUserAsync();
        await using var socket = await cluster.B.JoinedAsync("/ws/notifications", recipient.Token);

        using var response = await cluster.A.CreateClient(admin.Token).PostAsJsonAsync(
            "/api/notifications", new { userId = recipient.Id, title = "Build", body = "green" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var delivered = await socket.ReceiveJsonAsync("notification");
        Assert.Equal(id, delivered.GetProperty("id").GetInt64());
        Assert.Equal("Build", delivered.GetProperty("title").GetString());
        Assert.True(await socket.ReceivesNothingWithinAsync(TimeSpan.FromMilliseconds(500)));
    }

#endif
    [Fact]
    public async Task RemovingAMemberOnOneInstanceClosesTheirSocketOnAnotherWith4003WithinTwoSeconds()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var admin = await cluster.A.CreateSignedInUserAsync();
        var member = await cluster.A.CreateSignedInUserAsync();
        var org = await cluster.A.CreateOrganizationAsync("redis-" + Guid.NewGuid().ToString("N")[..8],
            (admin.UserName, OrganizationRole.Admin), (member.UserName, OrganizationRole.Member));
        await using var socket = await cluster.B.JoinedAsync(PresenceConsumer.PathFor(org.Id), member.Token);

        var started = DateTime.UtcNow;
        using var removed = await cluster.A.CreateClient(admin.Token).DeleteAsync($"/api/orgs/{org.Id}/members/{member.Id}");
        var close = await socket.ReceiveCloseAsync();

        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal((4003, "membership removed"), close);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task ChangingThePasswordOnOneInstanceClosesTheUsersSocketOnAnotherWith4001WithinTwoSeconds()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var user = await cluster.A.CreateSignedInUserAsync();
        await using var socket = await cluster.B.JoinedAsync(EchoConsumer.Path, user.Token);

        var started = DateTime.UtcNow;
        using var changed = await cluster.A.CreateClient(user.Token).PostAsync("/me/password", RealtimeApplication.Form(
            ("current_password", user.Password), ("new_password", "a brand new passphrase")));
        var close = await socket.ReceiveCloseAsync();

        Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        Assert.Equal((4001, "credentials changed"), close);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(2));
    }

    [Fact]
    public async Task RevokingTheRefreshFamilyOnOneInstanceClosesTheUsersSocketOnAnotherWith4001()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var (userName, password) = await cluster.A.CreateUniqueUserAsync();
        var tokens = await cluster.A.SignInAsync(userName, password);
        await using var socket = await cluster.B.JoinedAsync(EchoConsumer.Path, tokens.AccessToken);

        using var revoked = await cluster.A.CreateClient().PostAsync("/token/revoke", RealtimeApplication.Form(("token", tokens.RefreshToken)));

        Assert.Equal(HttpStatusCode.OK, revoked.StatusCode);
        Assert.Equal((4001, "sign-in revoked"), await socket.ReceiveCloseAsync());
    }

    [Fact]
    public async Task ReusingARotatedRefreshTokenOnOneInstanceClosesTheSocketsOfItsFamilyOnAnotherWith4001()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var (userName, password) = await cluster.A.CreateUniqueUserAsync();
        var first = await cluster.A.SignInAsync(userName, password);
        var rotated = await cluster.B.RefreshAsync(first.RefreshToken);
        await using var socket = await cluster.B.JoinedAsync(EchoConsumer.Path, rotated.AccessToken);

        await cluster.A.AssertRefreshRefusedAsync(first.RefreshToken);

        Assert.Equal((4001, "sign-in revoked"), await socket.ReceiveCloseAsync());
        await cluster.B.AssertRefreshRefusedAsync(rotated.RefreshToken);
    }

    [Fact]
    public async Task AnInstanceSubscribesToAStreamOnceWhateverItsSocketsAndLeavesWithTheLastOne()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var user = await cluster.A.CreateSignedInUserAsync();
        var name = Guid.NewGuid().ToString("N");
        var channel = RedisMessageBus.ChannelFor(EchoConsumer.StreamFor(name));
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);

        var first = await cluster.B.JoinedAsync($"{EchoConsumer.Path}/{name}", user.Token);
        var second = await cluster.B.JoinedAsync($"{EchoConsumer.Path}/{name}", user.Token);
        await using var onA = await cluster.A.JoinedAsync($"{EchoConsumer.Path}/{name}", user.Token);
        Assert.Equal(2, await RedisServer.SubscribersAsync(redis, channel));

        await first.DisposeAsync();
        await Eventually.HoldsAsync(() => cluster.B.Services.GetRequiredService<StreamHub>().CountMembers(EchoConsumer.StreamFor(name)) == 1);
        Assert.Equal(2, await RedisServer.SubscribersAsync(redis, channel));

        await second.DisposeAsync();
        await Eventually.HoldsAsync(async () => await RedisServer.SubscribersAsync(redis, channel) == 1);
    }

    [Fact]
    public async Task HealthIs200WhileRedisAnswersAnd503OnceItStops()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        using var client = cluster.A.CreateClient();

        using var up = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, up.StatusCode);

        await cluster.Redis.StopAsync();

        await Eventually.HoldsAsync(async () =>
        {
            using var down = await client.GetAsync("/health");
            return down.StatusCode == HttpStatusCode.ServiceUnavailable;
        });
    }

}

public sealed record BurstMessage(string Type, int N);

[JsonSerializable(typeof(BurstMessage))]
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
internal sealed partial class BurstJsonContext : JsonSerializerContext;

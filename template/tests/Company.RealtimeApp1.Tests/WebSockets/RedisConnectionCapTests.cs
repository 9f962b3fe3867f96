using System.Net;
using Company.RealtimeApp1.WebSockets.Redis;
using StackExchange.Redis;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// <c>MaxConnectionsPerUser</c> across instances (SPEC §3, §4): each open socket holds a lease in Redis,
/// renewed by its instance and released when it closes; a lease nobody renews stops counting once it expires.
/// </summary>
public sealed class RedisConnectionCapTests
{
    private static readonly Dictionary<string, string?> CapOfTwo = new() { ["WebSockets:MaxConnectionsPerUser"] = "2" };

    [Fact]
    public async Task AThirdSocketOnAnotherInstanceClosesWith4029WhenTheUserHasTwoOnTheFirst()
    {
        await using var cluster = await RealtimeCluster.StartAsync(CapOfTwo);
        var user = await cluster.A.CreateSignedInUserAsync();
        await using var first = await cluster.A.JoinedAsync(EchoConsumer.Path, user.Token);
        await using var second = await cluster.A.JoinedAsync(EchoConsumer.Path, user.Token);

        await using var third = await cluster.B.ConnectAsync(EchoConsumer.Path, user.Token);
        var other = await cluster.A.CreateSignedInUserAsync();
        await using var otherUser = await cluster.B.JoinedAsync(EchoConsumer.Path, other.Token);

        Assert.Equal((4029, "too many connections"), await third.ReceiveCloseAsync());
        await first.SendJsonAsync(new { type = "ping" });
        await first.ReceiveJsonAsync("pong");
    }

    [Fact]
    public async Task ClosingASocketOnOneInstanceFreesItsSlotForAnother()
    {
        await using var cluster = await RealtimeCluster.StartAsync(CapOfTwo);
        var user = await cluster.A.CreateSignedInUserAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);
        var first = await cluster.A.JoinedAsync(EchoConsumer.Path, user.Token);
        await using var second = await cluster.A.JoinedAsync(EchoConsumer.Path, user.Token);

        await first.DisposeAsync();
        await Eventually.HoldsAsync(async () => await redis.GetDatabase().SortedSetLengthAsync(RedisConnectionLeases.KeyFor(user.Id)) == 1);
        await using var onB = await cluster.B.JoinedAsync(EchoConsumer.Path, user.Token);

        Assert.True(await onB.ReceivesNothingWithinAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task LeasesOfOpenSocketsAreRenewedSoTheyKeepCountingPastTheirDuration()
    {
        await using var cluster = await RealtimeCluster.StartAsync(new(CapOfTwo)
        {
            ["WebSockets:ConnectionLeases:Duration"] = "00:00:01",
            ["WebSockets:ConnectionLeases:RenewInterval"] = "00:00:00.250",
        });
        var user = await cluster.A.CreateSignedInUserAsync();
        await using var first = await cluster.A.JoinedAsync(EchoConsumer.Path, user.Token);
        await using var second = await cluster.A.JoinedAsync(EchoConsumer.Path, user.Token);

        await Task.Delay(TimeSpan.FromSeconds(2.5));
        await using var third = await cluster.B.ConnectAsync(EchoConsumer.Path, user.Token);

        Assert.Equal((4029, "too many connections"), await third.ReceiveCloseAsync());
    }

    [Fact]
    public async Task LeasesOfAnInstanceThatDiedWithoutAGoodbyeStopCountingOnceTheyExpire()
    {
        await using var cluster = await RealtimeCluster.StartAsync(CapOfTwo);
        var user = await cluster.A.CreateSignedInUserAsync();
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);
        var database = redis.GetDatabase();
        // What a killed instance leaves behind: two leases that nobody will renew or release.
        var expiry = await RedisNowAsync(redis) + 1500;
        await database.SortedSetAddAsync(RedisConnectionLeases.KeyFor(user.Id), [new("dead-1", expiry), new("dead-2", expiry)]);

        await using var refused = await cluster.B.ConnectAsync(EchoConsumer.Path, user.Token);
        Assert.Equal((4029, "too many connections"), await refused.ReceiveCloseAsync());

        await Eventually.HoldsAsync(async () => await RedisNowAsync(redis) > expiry);
        await using var first = await cluster.B.JoinedAsync(EchoConsumer.Path, user.Token);
        await using var second = await cluster.A.JoinedAsync(EchoConsumer.Path, user.Token);

        Assert.True(await first.ReceivesNothingWithinAsync(TimeSpan.FromMilliseconds(500)));
        Assert.True(await second.ReceivesNothingWithinAsync(TimeSpan.FromMilliseconds(100)));
    }

    [Fact]
    public async Task WhileRedisIsDownASocketIsAdmittedUnderItsInstancesOwnCap()
    {
        await using var cluster = await RealtimeCluster.StartAsync(CapOfTwo);
        var user = await cluster.A.CreateSignedInUserAsync();
        await using var onB = await cluster.B.JoinedAsync(EchoConsumer.Path, user.Token);

        await cluster.Redis.StopAsync();
        await using var first = await cluster.A.JoinedAsync(EchoConsumer.Path, user.Token);
        await using var second = await cluster.A.JoinedAsync(EchoConsumer.Path, user.Token);
        await using var third = await cluster.A.ConnectAsync(EchoConsumer.Path, user.Token);

        Assert.Equal((4029, "too many connections"), await third.ReceiveCloseAsync());
    }

    [Fact]
    public async Task ARedisThatRestartsEmptyGetsEveryInstancesLeasesBackAtOnceSoTheCapHolds()
    {
        await using var cluster = await RealtimeCluster.StartAsync(new() { ["WebSockets:MaxConnectionsPerUser"] = "3" });
        var user = await cluster.A.CreateSignedInUserAsync();
        await using var first = await cluster.A.JoinedAsync(EchoConsumer.Path, user.Token);
        await using var second = await cluster.A.JoinedAsync(EchoConsumer.Path, user.Token);
        await using var third = await cluster.B.JoinedAsync(EchoConsumer.Path, user.Token);

        await cluster.Redis.StopAsync();
        await cluster.HealthIsAsync(HttpStatusCode.ServiceUnavailable);
        // Nothing is saved: it comes back empty. The leases are renewed every 20 s; this must not wait for that.
        await cluster.Redis.RestartAsync();
        await cluster.HealthIsAsync(HttpStatusCode.OK);
        var reconnected = DateTime.UtcNow;
        // Both instances write their leases back as they reconnect: well within 5 s, where a renewal would take 20.
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);
        while (await redis.GetDatabase().SortedSetLengthAsync(RedisConnectionLeases.KeyFor(user.Id)) < 3)
        {
            Assert.True(DateTime.UtcNow - reconnected < TimeSpan.FromSeconds(5), "The leases did not come back within 5 s of the instances' reconnecting.");
            await Task.Delay(50);
        }

        await using var fourth = await cluster.B.ConnectAsync(EchoConsumer.Path, user.Token);

        Assert.Equal((4029, "too many connections"), await fourth.ReceiveCloseAsync());
        await third.SendJsonAsync(new { type = "ping" });
        await third.ReceiveJsonAsync("pong");
    }

    private static async Task<long> RedisNowAsync(ConnectionMultiplexer redis) =>
        (long)(await redis.GetServers()[0].TimeAsync() - DateTime.UnixEpoch).TotalMilliseconds;
}

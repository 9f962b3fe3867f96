using System.Net;
using System.Text.Json;
using Company.RealtimeApp1.Organizations;
using StackExchange.Redis;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// Presence on two instances behind one Redis (SPEC §3, §4): each user once whatever the instance of their tabs,
/// no ghost after an instance dies without a goodbye, rebuilt after a Redis restart, and the same for a large
/// organization; signals reach the other instance.
/// </summary>
public sealed class RedisPresenceTests
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(500);

    /// <summary>Short, so that an instance's records outlive it by seconds rather than by 45.</summary>
    private static readonly Dictionary<string, string?> QuickPresence = new()
    {
        ["WebSockets:Presence:Lifetime"] = "00:00:03",
        ["WebSockets:Presence:RenewInterval"] = "00:00:01",
    };

    [Fact]
    public async Task TabsOnBothInstancesCountOnceAndTheUserLeavesWhenTheLastOneCloses()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var (org, alice, bob) = await OrganizationAsync(cluster);
        await using var watcher = await WatchAsync(cluster.A, org, alice);
        await watcher.ReceiveJsonAsync("presence");

        var bobOnA = await cluster.A.JoinedAsync(PathFor(org), bob.Token);
        Assert.Equal(bob.UserName, UserName(await watcher.ReceiveJsonAsync("presence.joined")));
        var bobOnB = await cluster.B.JoinedAsync(PathFor(org), bob.Token);
        await bobOnA.DisposeAsync();
        Assert.True(await watcher.ReceivesNothingWithinAsync(Quiet));
        await using var late = await WatchAsync(cluster.B, org, alice);
        var snapshot = await late.ReceiveJsonAsync("presence");
        await bobOnB.DisposeAsync();

        Assert.Equal(new[] { alice.UserName, bob.UserName }.Order(), Members(snapshot).Order());
        Assert.Equal(bob.UserName, UserName(await watcher.ReceiveJsonAsync("presence.left")));
        Assert.Equal(bob.UserName, UserName(await late.ReceiveJsonAsync("presence.left")));
    }

    [Fact]
    public async Task AnInstanceKilledWithoutAGoodbyeDropsItsUsersFromEveryonesPresence()
    {
        await using var cluster = await RealtimeCluster.StartAsync(QuickPresence);
        var (org, alice, bob) = await OrganizationAsync(cluster);
        await using var watcher = await WatchAsync(cluster.A, org, alice);
        await watcher.ReceiveJsonAsync("presence");
        // A third instance, as a process of its own on the same database and Redis, holds bob's socket.
        await using var instance = await AppProcess.StartServerAsync(cluster.Settings);
        await using var bobThere = await instance.ConnectAsync(PathFor(org), bob.Token);
        bobThere.SkipsPresence = false;
        await bobThere.ReceiveJsonAsync("welcome");
        Assert.Equal(bob.UserName, UserName(await watcher.ReceiveJsonAsync("presence.joined")));
        Assert.Equal(new[] { alice.UserName, bob.UserName }.Order(), Members(await bobThere.ReceiveJsonAsync("presence")).Order());

        // SIGKILL: no close frame, no goodbye to Redis; its records expire (Lifetime 3 s here, 45 s by default).
        await instance.KillAsync();

        Assert.Equal(bob.UserName, UserName(await watcher.ReceiveJsonAsync("presence.left")));
        await using var late = await WatchAsync(cluster.B, org, alice);
        Assert.Equal([alice.UserName], Members(await late.ReceiveJsonAsync("presence")));
    }

    [Fact]
    public async Task AfterARedisRestartPresenceIsRebuiltFromTheInstancesOwnSockets()
    {
        await using var cluster = await RealtimeCluster.StartAsync(QuickPresence);
        var (org, alice, bob) = await OrganizationAsync(cluster);
        await using var aliceOnA = await cluster.A.JoinedAsync(PathFor(org), alice.Token);
        await using var bobOnB = await cluster.B.JoinedAsync(PathFor(org), bob.Token);

        await cluster.Redis.RestartAsync();
        await cluster.HealthIsAsync(HttpStatusCode.OK);

        // Each instance writes its own back once it has reconnected and caught up; a new socket then sees both.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        string[] online;
        do
        {
            await Task.Delay(200);
            await using var probe = await WatchAsync(cluster.A, org, alice);
            online = [.. Members(await probe.ReceiveJsonAsync("presence")).Order()];
        }
        while (!online.SequenceEqual(new[] { alice.UserName, bob.UserName }.Order()) && DateTime.UtcNow < deadline);

        Assert.Equal(new[] { alice.UserName, bob.UserName }.Order(), online);
    }

    [Fact]
    public async Task ALargeOrganizationShowsEveryUserOnceToASocketOnEitherInstance()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var alice = await cluster.A.CreateSignedInUserAsync();
        var members = new List<TestUser>();
        for (var n = 0; n < 100; n++)
        {
            members.Add(await cluster.A.CreateSignedInUserAsync());
        }

        var org = (await cluster.A.CreateOrganizationAsync("large-" + Guid.NewGuid().ToString("N")[..8],
            [(alice.UserName, OrganizationRole.Admin), .. members.Select(member => (member.UserName, OrganizationRole.Member))])).Id;

        // Three tabs each, spread over both instances: 300 sockets.
        var sockets = new List<TestSocket>();
        foreach (var (member, n) in members.Select((member, n) => (member, n)))
        {
            for (var tab = 0; tab < 3; tab++)
            {
                sockets.Add(await ((n + tab) % 2 == 0 ? cluster.A : cluster.B).JoinedAsync(PathFor(org), member.Token));
            }
        }

        try
        {
            foreach (var app in new[] { cluster.A, cluster.B })
            {
                await using var watcher = await WatchAsync(app, org, alice);
                var online = Members(await watcher.ReceiveJsonAsync("presence")).ToList();
                Assert.Equal(members.Select(member => member.UserName).Append(alice.UserName).Order(), online.Order());
            }
        }
        finally
        {
            foreach (var socket in sockets)
            {
                await socket.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task ASignalOnOneInstanceReachesTheOthersOnTheOtherButNotItsSender()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var (org, alice, bob) = await OrganizationAsync(cluster);
        await using var aliceOnA = await cluster.A.JoinedAsync(PathFor(org), alice.Token);
        await using var bobOnB = await cluster.B.JoinedAsync(PathFor(org), bob.Token);

        await aliceOnA.SendJsonAsync(new { type = "signal", @event = "typing" });
        var signal = await bobOnB.ReceiveJsonAsync("org.signal");

        Assert.Equal(("typing", alice.UserName), (signal.GetProperty("event").GetString(), signal.GetProperty("sender").GetProperty("username").GetString()));
        Assert.True(await aliceOnA.ReceivesNothingWithinAsync(Quiet));
    }

    private static async Task<TestSocket> WatchAsync(RealtimeApplication app, Guid org, TestUser user)
    {
        var socket = await app.ConnectAsync(PathFor(org), user.Token);
        socket.SkipsPresence = false;
        await socket.ReceiveJsonAsync("welcome");
        return socket;
    }

    private static string PathFor(Guid org) => $"/ws/events/{org}";

    private static IEnumerable<string> Members(JsonElement presence) =>
        presence.GetProperty("members").EnumerateArray().Select(member => member.GetProperty("username").GetString()!);

    private static string UserName(JsonElement change) => change.GetProperty("user").GetProperty("username").GetString()!;

    private static async Task<(Guid Org, TestUser Alice, TestUser Bob)> OrganizationAsync(RealtimeCluster cluster)
    {
        var alice = await cluster.A.CreateSignedInUserAsync();
        var bob = await cluster.A.CreateSignedInUserAsync();
        var org = await cluster.A.CreateOrganizationAsync("here-" + Guid.NewGuid().ToString("N")[..8],
            (alice.UserName, OrganizationRole.Admin), (bob.UserName, OrganizationRole.Member));
        return (org.Id, alice, bob);
    }
}

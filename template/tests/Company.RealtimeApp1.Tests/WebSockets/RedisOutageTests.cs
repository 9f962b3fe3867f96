using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Company.RealtimeApp1.Consumers;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.WebSockets.Redis;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using StackExchange.Redis;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// Losing Redis for a while loses nothing (SPEC §4): publishing still stores and answers at once, the
/// instances reconnect and resubscribe by themselves, open sockets get what was stored meanwhile, in order
/// and once, and what was revoked meanwhile takes effect when Redis returns.
/// </summary>
public sealed class RedisOutageTests
{
    /// <summary>Well under StackExchange.Redis's own 5 s timeouts: an answer within it did not wait on Redis.</summary>
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task WhileRedisIsDownPublishingStoresAndAnswersAtOnce()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var (org, admin, member) = await OrganizationAsync(cluster);
        await using var socket = await cluster.B.JoinedAsync($"/ws/events/{org}", member.Token);
        await OutageAsync(cluster);
        using var client = cluster.A.CreateClient(admin.Token);
        client.Timeout = Prompt;

        using var notification = await client.PostAsJsonAsync("/api/notifications", new { userId = member.Id, title = "Build", body = "red" });
        using var orgEvent = await client.PostAsJsonAsync($"/api/orgs/{org}/events", new { type = "deploy" });
        await socket.SendJsonAsync(new { type = "publish", @event = "chat" });
        await socket.SendJsonAsync(new { type = "ping" });
        var pong = await socket.ReceiveJsonAsync().WaitAsync(Prompt);

        Assert.Equal(HttpStatusCode.Accepted, notification.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, orgEvent.StatusCode);
        Assert.Equal("pong", pong.GetProperty("type").GetString());
        Assert.Equal(["deploy", "chat"], await StoredEventsAsync(cluster.A, org));
    }

    [Fact]
    public async Task WhileRedisIsDownRemovingAMemberAnswersAtOnce()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var (org, admin, member) = await OrganizationAsync(cluster);
        await OutageAsync(cluster);
        using var client = cluster.A.CreateClient(admin.Token);
        client.Timeout = Prompt;

        using var removed = await client.DeleteAsync($"/api/orgs/{org}/members/{member.Id}");

        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
    }

    [Fact]
    public async Task HealthIs503WhileRedisIsDownAnd200OnceItReturns()
    {
        await using var cluster = await RealtimeCluster.StartAsync();

        await OutageAsync(cluster);
        await cluster.Redis.RestartAsync();

        await RecoveredAsync(cluster);
    }

    [Fact]
    public async Task AfterRedisReturnsAMessagePublishedReachesSocketsAlreadyOpenOnBothInstances()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var (org, admin, member) = await OrganizationAsync(cluster);
        await using var onA = await cluster.A.JoinedAsync($"/ws/events/{org}", member.Token);
        await using var onB = await cluster.B.JoinedAsync($"/ws/events/{org}", member.Token);

        await OutageAsync(cluster);
        await cluster.Redis.RestartAsync();
        await RecoveredAsync(cluster);
        // Once both have caught up, nothing reads the store any more: what arrives now came through Redis.
        await Eventually.HoldsAsync(() => cluster.A.Logs.GetSnapshot().Any(IsRecovery) && cluster.B.Logs.GetSnapshot().Any(IsRecovery));
        var id = await PublishAsync(cluster.A, admin, org, "after");

        foreach (var socket in new[] { onA, onB })
        {
            var received = await socket.ReceiveJsonAsync("org.event");
            Assert.Equal(id, received.GetProperty("id").GetInt64());
            Assert.Equal("after", received.GetProperty("event").GetString());
        }
    }

    [Fact]
    public async Task SocketsThatStayedOpenGetWhatWasStoredDuringTheOutageOnceAndInOrderThenTheLiveStream()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var (org, admin, member) = await OrganizationAsync(cluster);
        await using var onA = await cluster.A.JoinedAsync($"/ws/events/{org}", member.Token);
        await using var onB = await cluster.B.JoinedAsync($"/ws/events/{org}", member.Token);
        var before = await PublishAsync(cluster.A, admin, org, "before");
        await using var lateOnB = await cluster.B.JoinedAsync($"/ws/events/{org}", admin.Token);
        Assert.Equal(before, (await onA.ReceiveJsonAsync("org.event")).GetProperty("id").GetInt64());
        Assert.Equal(before, (await onB.ReceiveJsonAsync("org.event")).GetProperty("id").GetInt64());

        await OutageAsync(cluster);
        var stored = new List<(long Id, string Event)>();
        for (var n = 1; n <= 3; n++)
        {
            stored.Add((await PublishAsync(cluster.A, admin, org, $"outage-a{n}"), $"outage-a{n}"));
            stored.Add((await PublishAsync(cluster.B, admin, org, $"outage-b{n}"), $"outage-b{n}"));
        }

        await cluster.Redis.RestartAsync();
        await RecoveredAsync(cluster);
        for (var n = 1; n <= 2; n++)
        {
            stored.Add((await PublishAsync(cluster.A, admin, org, $"live{n}"), $"live{n}"));
        }

        foreach (var socket in new[] { onA, onB, lateOnB })
        {
            var received = new List<(long, string)>();
            for (var i = 0; i < stored.Count; i++)
            {
                var message = await socket.ReceiveJsonAsync("org.event");
                received.Add((message.GetProperty("id").GetInt64(), message.GetProperty("event").GetString()!));
            }

            Assert.Equal(stored, received);
            Assert.True(await socket.ReceivesNothingWithinAsync(TimeSpan.FromMilliseconds(500)));
        }
    }

    [Fact]
    public async Task ANotificationSocketThatStayedOpenGetsTheNotificationsSentDuringTheOutage()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var admin = await cluster.A.CreateSignedInUserAsync("admin");
        var recipient = await cluster.A.CreateSignedInUserAsync();
        await using var socket = await cluster.B.JoinedAsync("/ws/notifications", recipient.Token);

        await OutageAsync(cluster);
        var sent = new List<long>();
        foreach (var app in new[] { cluster.A, cluster.B })
        {
            sent.Add(await NotifyAsync(app, admin, recipient, $"outage on {app.ServerAddress.Port}"));
        }

        await cluster.Redis.RestartAsync();
        await RecoveredAsync(cluster);
        sent.Add(await NotifyAsync(cluster.A, admin, recipient, "live"));

        await AssertGetsExactlyAsync(socket, "notification", sent);
    }

    [Fact]
    public async Task ASocketOpenedDuringTheOutageGetsWhatWasStoredAfterItJoinedOnceRedisReturns()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var admin = await cluster.A.CreateSignedInUserAsync("admin");
        var recipient = await cluster.A.CreateSignedInUserAsync();
        await OutageAsync(cluster);
        await using var socket = await cluster.B.JoinedAsync("/ws/notifications", recipient.Token);

        var sent = new List<long> { await NotifyAsync(cluster.A, admin, recipient, "while down") };
        await cluster.Redis.RestartAsync();
        await RecoveredAsync(cluster);
        sent.Add(await NotifyAsync(cluster.A, admin, recipient, "live"));

        await AssertGetsExactlyAsync(socket, "notification", sent);
    }

    [Fact]
    public async Task AnotherMembersSinceFromTheFutureDoesNotMoveWhereASocketCatchesUpFrom()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var (org, admin, member) = await OrganizationAsync(cluster);
        await using var ahead = await cluster.B.ConnectAsync($"/ws/events/{org}?since=9000000000000", admin.Token);
        await ahead.ReceiveJsonAsync("welcome");
        Assert.Equal("invalid_message", (await ahead.ReceiveJsonAsync("error")).GetProperty("code").GetString());
        await using var socket = await cluster.B.JoinedAsync($"/ws/events/{org}", member.Token);

        await OutageAsync(cluster);
        var sent = new List<long> { await PublishAsync(cluster.A, admin, org, "while down") };
        await cluster.Redis.RestartAsync();
        await RecoveredAsync(cluster);
        sent.Add(await PublishAsync(cluster.A, admin, org, "live"));

        await AssertGetsExactlyAsync(socket, "org.event", sent);
    }

    [Fact]
    public async Task AnInstanceThatStartedWhileRedisWasDownGivesItsSocketsWhatWasStoredBeforeRedisCameUp()
    {
        await using var redis = await RedisServer.StartAsync();
        await redis.StopAsync();
        await using var app = RealtimeApplication.With(new() { ["ConnectionStrings:Redis"] = redis.ConnectionString });
        var admin = await app.CreateSignedInUserAsync("admin");
        var recipient = await app.CreateSignedInUserAsync();
        await using var socket = await app.JoinedAsync("/ws/notifications", recipient.Token);

        var sent = new List<long> { await NotifyAsync(app, admin, recipient, "before Redis") };
        await redis.RestartAsync();
        await Eventually.HoldsAsync(async () =>
        {
            using var health = await app.CreateClient().GetAsync("/health");
            return health.StatusCode == HttpStatusCode.OK;
        });
        sent.Add(await NotifyAsync(app, admin, recipient, "live"));

        await AssertGetsExactlyAsync(socket, "notification", sent);
    }

    [Fact]
    public async Task AMemberRemovedDuringTheOutageHasTheirSocketOnAnotherInstanceClosed4003WhenRedisReturns()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var (org, admin, member) = await OrganizationAsync(cluster);
        await using var socket = await cluster.B.JoinedAsync($"/ws/events/{org}", member.Token);

        await OutageAsync(cluster);
        using var removed = await cluster.A.CreateClient(admin.Token).DeleteAsync($"/api/orgs/{org}/members/{member.Id}");
        await PublishAsync(cluster.A, admin, org, "after the removal");
        await cluster.Redis.RestartAsync();

        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        // The close comes first: what was published after the removal is not for the removed member.
        var (type, _) = await socket.ReceiveAsync();
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal((4003, "membership removed"), ((int)socket.Socket.CloseStatus!, socket.Socket.CloseStatusDescription));
    }

    [Fact]
    public async Task AUserDisabledDuringTheOutageHasTheirSocketOnAnotherInstanceClosed4001WhenRedisReturns()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var user = await cluster.A.CreateSignedInUserAsync();
        await using var socket = await cluster.B.JoinedAsync("/ws/notifications", user.Token);

        await OutageAsync(cluster);
        await cluster.A.ChangeUserAsync(user.UserName, (users, found) =>
        {
            found.IsDisabled = true;
            return users.UpdateAsync(found);
        });
        await cluster.Redis.RestartAsync();

        Assert.Equal(4001, (await socket.ReceiveCloseAsync()).Code);
    }

    [Fact]
    public async Task ASocketWhoseGapTheHistoryNoLongerCoversIsClosed1012SoItResumesWithSince()
    {
        await using var cluster = await RealtimeCluster.StartAsync(new() { ["WebSockets:OrgHistory"] = "2" });
        var (org, admin, member) = await OrganizationAsync(cluster);
        await using var socket = await cluster.B.JoinedAsync($"/ws/events/{org}", member.Token);
        var before = await PublishAsync(cluster.A, admin, org, "before");
        Assert.Equal(before, (await socket.ReceiveJsonAsync("org.event")).GetProperty("id").GetInt64());

        await OutageAsync(cluster);
        for (var n = 1; n <= 4; n++)
        {
            await PublishAsync(cluster.A, admin, org, $"outage{n}");
        }

        await cluster.Redis.RestartAsync();

        var (type, _) = await socket.ReceiveAsync();
        Assert.Equal(WebSocketMessageType.Close, type);
        Assert.Equal((1012, StreamCatchUpReason), ((int)socket.Socket.CloseStatus!, socket.Socket.CloseStatusDescription));
    }

    [Fact]
    public async Task AMalformedMessageOnAStreamsChannelIsDroppedAndTheNextOneStillArrives()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var (org, admin, member) = await OrganizationAsync(cluster);
        await using var socket = await cluster.B.JoinedAsync($"/ws/events/{org}", member.Token);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);
        var channel = RedisMessageBus.ChannelFor(OrganizationStream.For(org));
        byte[] lyingLength = [0, 0, 0, 0, 0, 0, 0, 7, 0x7f, 0xff, 0xff, 0xff, (byte)'x'];
        var otherStream = RedisStreamEnvelope.Write(new WebSockets.StreamMessage(OrganizationStream.For(Guid.NewGuid()), 9, Encoding.UTF8.GetBytes("{\"type\":\"org.event\"}")));

        foreach (var garbage in new RedisValue[] { "hello", Array.Empty<byte>(), new byte[] { 1, 2, 3 }, lyingLength, otherStream })
        {
            Assert.Equal(1, await redis.GetSubscriber().PublishAsync(channel, garbage));
        }

        var id = await PublishAsync(cluster.A, admin, org, "real");
        var received = await socket.ReceiveJsonAsync("org.event");
        Assert.Equal(id, received.GetProperty("id").GetInt64());
        Assert.Equal("real", received.GetProperty("event").GetString());
        Assert.Contains(cluster.B.Logs.GetSnapshot(), log => log.Message.Contains("not a stream envelope"));
    }

    [Fact]
    public async Task TheOutageAndTheRecoveryAreLoggedOnceEach()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var (org, admin, member) = await OrganizationAsync(cluster);
        await using var first = await cluster.A.JoinedAsync($"/ws/events/{org}", member.Token);
        await using var second = await cluster.A.JoinedAsync($"/ws/events/{org}", admin.Token);

        await OutageAsync(cluster);
        for (var n = 1; n <= 3; n++)
        {
            await PublishAsync(cluster.A, admin, org, $"outage{n}");
        }

        await cluster.Redis.RestartAsync();
        await RecoveredAsync(cluster);
        await first.ReceiveIdsAsync("org.event", 3);
        await second.ReceiveIdsAsync("org.event", 3);
        // The recovery is logged once the catch-up has finished, which is just after the sockets got its messages.
        await Eventually.HoldsAsync(() => cluster.A.Logs.GetSnapshot().Any(IsRecovery));

        var logs = cluster.A.Logs.GetSnapshot();
        Assert.Single(logs, log => log.Category == typeof(RedisOutageRecovery).FullName && log.Message.StartsWith("Lost the connection to Redis", StringComparison.Ordinal));
        Assert.Single(logs, IsRecovery);
        // The health check's own failures aside (the framework logs an unhealthy check as an error), nothing failed.
        Assert.DoesNotContain(logs, log => log.Level >= LogLevel.Error && log.Category?.StartsWith("Company.", StringComparison.Ordinal) == true);
    }

    [Fact]
    public async Task AClientThatMovesToAnotherInstanceWithSinceWhilePublishingGoesOnSeesEveryIdOnceInOrder()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var admin = await cluster.A.CreateSignedInUserAsync("admin");
        var recipient = await cluster.A.CreateSignedInUserAsync();
        var onA = await cluster.A.JoinedAsync("/ws/notifications", recipient.Token);

        var publishing = Task.Run(async () =>
        {
            var ids = new List<long>();
            for (var n = 1; n <= 150; n++)
            {
                ids.Add(await NotifyAsync(cluster.A, admin, recipient, $"n{n}"));
            }

            return ids;
        });
        var seen = await onA.ReceiveIdsAsync("notification", 20);
        await onA.DisposeAsync();
        await using var onB = await cluster.B.ConnectAsync($"/ws/notifications?since={seen[^1]}", recipient.Token);
        await onB.ReceiveJsonAsync("welcome");
        var published = await publishing;
        while (seen.Count < published.Count)
        {
            var message = await onB.ReceiveJsonAsync();
            if (message.GetProperty("type").GetString() == "notification")
            {
                seen.Add(message.GetProperty("id").GetInt64());
            }
            else
            {
                Assert.Equal("resumed", message.GetProperty("type").GetString());
                Assert.True(message.GetProperty("recovered").GetBoolean());
            }
        }

        Assert.Equal(published, seen);
        Assert.True(await onB.ReceivesNothingWithinAsync(TimeSpan.FromMilliseconds(500)));
    }

    private const string StreamCatchUpReason = WebSockets.StreamCatchUp.CloseReason;

    /// <summary>The instance's one log line saying it is back and has caught up.</summary>
    private static bool IsRecovery(FakeLogRecord log) =>
        log.Category == typeof(RedisOutageRecovery).FullName && log.Message.StartsWith("Reconnected to Redis", StringComparison.Ordinal);

    private static async Task<(Guid Org, TestUser Admin, TestUser Member)> OrganizationAsync(RealtimeCluster cluster)
    {
        var admin = await cluster.A.CreateSignedInUserAsync("admin");
        var member = await cluster.A.CreateSignedInUserAsync();
        var org = await cluster.A.CreateOrganizationAsync("outage-" + Guid.NewGuid().ToString("N")[..8],
            (admin.UserName, OrganizationRole.Admin), (member.UserName, OrganizationRole.Member));
        return (org.Id, admin, member);
    }

    /// <summary>Stops Redis and waits until both instances know it (their health says so).</summary>
    private static async Task OutageAsync(RealtimeCluster cluster)
    {
        await cluster.Redis.StopAsync();
        await cluster.HealthIsAsync(HttpStatusCode.ServiceUnavailable);
    }

    private static Task RecoveredAsync(RealtimeCluster cluster) => cluster.HealthIsAsync(HttpStatusCode.OK);

    private static async Task<long> PublishAsync(RealtimeApplication app, TestUser sender, Guid org, string type)
    {
        using var response = await app.CreateClient(sender.Token).PostAsJsonAsync($"/api/orgs/{org}/events", new { type });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }

    private static async Task<string[]> StoredEventsAsync(RealtimeApplication app, Guid org)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var stream = OrganizationStream.For(org).Name;
        var stored = await scope.ServiceProvider.GetRequiredService<Data.AppDbContext>().Set<Data.StreamLogEntry>()
            .Where(e => e.Stream == stream).OrderBy(e => e.Position).Select(e => e.Content).ToArrayAsync();
        return [.. stored.Select(content => JsonDocument.Parse(content).RootElement.GetProperty("event").GetString()!)];
    }

    /// <summary>The socket gets every one of <paramref name="sent"/>, once and in order, and nothing more.</summary>
    private static async Task AssertGetsExactlyAsync(TestSocket socket, string type, IReadOnlyList<long> sent)
    {
        Assert.Equal(sent, await socket.ReceiveIdsAsync(type, sent.Count));
        Assert.True(await socket.ReceivesNothingWithinAsync(TimeSpan.FromMilliseconds(500)));
    }

    private static async Task<long> NotifyAsync(RealtimeApplication app, TestUser admin, TestUser recipient, string title)
    {
        using var response = await app.CreateClient(admin.Token).PostAsJsonAsync(
            "/api/notifications", new { userId = recipient.Id, title, body = "" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Company.RealtimeApp1.WebSockets;
using Company.RealtimeApp1.WebSockets.Redis;

namespace Company.RealtimeApp1.Tests;

/// <summary>Tickets in Redis (SPEC §4): issued on one instance, redeemed on any, once; the per-user cap counts every instance.</summary>
public sealed class RedisTicketTests
{
    [Fact]
    public async Task ATicketFromOneInstanceOpensASocketOnAnotherOnlyOnce()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var user = await cluster.A.CreateSignedInUserAsync();
        var ticket = await IssueTicketAsync(cluster.A, user.Token);

        await using (var first = await cluster.B.ConnectAsync($"{EchoConsumer.Path}?ticket={ticket}"))
        {
            var welcome = await first.ReceiveJsonAsync("welcome");
            Assert.Equal(user.UserName, welcome.GetProperty("user").GetProperty("username").GetString());
        }

        await using var onB = await cluster.B.ConnectAsync($"{EchoConsumer.Path}?ticket={ticket}");
        await using var onA = await cluster.A.ConnectAsync($"{EchoConsumer.Path}?ticket={ticket}");
        await onB.AssertRefusedAsync(401, "invalid_token", "The ticket is unknown, already used or expired.");
        await onA.AssertRefusedAsync(401, "invalid_token", "The ticket is unknown, already used or expired.");
    }

    [Fact]
    public async Task TheTicketCapCountsTheUsersTicketsOnEveryInstance()
    {
        await using var cluster = await RealtimeCluster.StartAsync(new() { ["WebSockets:MaxTicketsPerUser"] = "3" });
        var user = await cluster.A.CreateSignedInUserAsync();
        await IssueTicketAsync(cluster.A, user.Token);
        await IssueTicketAsync(cluster.B, user.Token);
        var third = await IssueTicketAsync(cluster.A, user.Token);

        using var refusedOnB = await cluster.B.CreateClient(user.Token).PostAsync("/ws/ticket", null);
        using var refusedOnA = await cluster.A.CreateClient(user.Token).PostAsync("/ws/ticket", null);
        await using (var socket = await cluster.B.ConnectAsync($"{EchoConsumer.Path}?ticket={third}"))
        {
            await socket.ReceiveJsonAsync("welcome");
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, refusedOnB.StatusCode);
        Assert.InRange(int.Parse(Assert.Single(refusedOnB.Headers.GetValues("Retry-After"))), 1, 30);
        Assert.Equal(HttpStatusCode.TooManyRequests, refusedOnA.StatusCode);
        await IssueTicketAsync(cluster.B, user.Token);
    }

    [Fact]
    public async Task OfConcurrentIssuesOnTwoInstancesBeyondTheCapExactlyTheCapSucceed()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var stores = new[] { cluster.A, cluster.B }.Select(app => app.Services.GetRequiredService<IWebSocketTicketStore>()).ToArray();
        Assert.All(stores, store => Assert.IsType<RedisWebSocketTicketStore>(store));
        var user = Guid.NewGuid();

        var issued = await Task.WhenAll(Enumerable.Range(0, 64).Select(i =>
            Task.Run(() => stores[i % 2].IssueAsync(user, "token", TimeSpan.FromSeconds(30), maxUnredeemed: 10).AsTask())));

        Assert.Equal(10, issued.Count(issue => issue.Ticket is not null));
    }

    [Fact]
    public async Task OfConcurrentRedemptionsOnTwoInstancesOfOneTicketExactlyOneSucceeds()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var stores = new[] { cluster.A, cluster.B }.Select(app => app.Services.GetRequiredService<IWebSocketTicketStore>()).ToArray();
        var ticket = (await stores[0].IssueAsync(Guid.NewGuid(), "the-access-token", TimeSpan.FromSeconds(30), maxUnredeemed: 10)).Ticket!;

        var redeemed = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => Task.Run(() => stores[i % 2].RedeemAsync(ticket).AsTask())));

        Assert.Equal("the-access-token", Assert.Single(redeemed, token => token is not null));
    }

    [Fact]
    public async Task AnExpiredTicketIsGoneFromRedisAndFreesItsSlot()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var store = cluster.A.Services.GetRequiredService<IWebSocketTicketStore>();
        var user = Guid.NewGuid();
        var ticket = (await store.IssueAsync(user, "token", TimeSpan.FromMilliseconds(200), maxUnredeemed: 1)).Ticket!;
        var refused = await store.IssueAsync(user, "token", TimeSpan.FromSeconds(30), maxUnredeemed: 1);

        await Task.Delay(400);

        Assert.Null(refused.Ticket);
        Assert.InRange(refused.RetryAfter, TimeSpan.Zero, TimeSpan.FromMilliseconds(200));
        Assert.Null(await store.RedeemAsync(ticket));
        Assert.NotNull((await store.IssueAsync(user, "token", TimeSpan.FromSeconds(30), maxUnredeemed: 1)).Ticket);
    }

    [Fact]
    public async Task WhileRedisIsDownATicketIsRefusedWith503AndAProblemThatSaysToRetry()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var user = await cluster.A.CreateSignedInUserAsync();
        await cluster.Redis.StopAsync();

        using var response = await cluster.A.CreateClient(user.Token).PostAsync("/ws/ticket", null);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(503, problem.GetProperty("status").GetInt32());
        Assert.Equal("Tickets are unavailable for a moment: retry, or connect with the access token.", problem.GetProperty("detail").GetString());
        Assert.InRange(int.Parse(Assert.Single(response.Headers.GetValues("Retry-After"))), 1, 30);
    }

    [Fact]
    public async Task WhileRedisIsDownAHandshakeWithATicketIsRefusedAsUnavailableAndTicketsWorkOnceItIsBack()
    {
        await using var cluster = await RealtimeCluster.StartAsync();
        var user = await cluster.A.CreateSignedInUserAsync();
        var ticket = await IssueTicketAsync(cluster.A, user.Token);
        await cluster.Redis.StopAsync();

        await using (var refused = await cluster.B.ConnectAsync($"{EchoConsumer.Path}?ticket={ticket}"))
        {
            var auth = await refused.ReceiveJsonAsync("auth");
            Assert.Equal(503, auth.GetProperty("status").GetInt32());
            Assert.Equal("temporarily_unavailable", auth.GetProperty("error").GetString());
            Assert.Equal("Tickets cannot be checked for a moment: ask for a new ticket shortly, or connect with the access token.", auth.GetProperty("detail").GetString());
            Assert.Equal((1013, "try again later"), await refused.ReceiveCloseAsync());
        }

        // The restarted server kept nothing (no persistence in tests): a new ticket, issued and redeemed across instances.
        await cluster.Redis.RestartAsync();
        await WaitForRedisAsync(cluster.A);
        await WaitForRedisAsync(cluster.B);
        await using var socket = await cluster.B.ConnectAsync($"{EchoConsumer.Path}?ticket={await IssueTicketAsync(cluster.A, user.Token)}");
        await socket.ReceiveJsonAsync("welcome");
    }

    [Fact]
    public async Task WhileRedisIsDownAHandshakeWithATicketIsAPlain503WhenRejectingWithHttpStatus()
    {
        await using var cluster = await RealtimeCluster.StartAsync(new() { ["WebSockets:RejectWith"] = "HttpStatus" });
        var user = await cluster.A.CreateSignedInUserAsync();
        var ticket = await IssueTicketAsync(cluster.A, user.Token);
        await cluster.Redis.StopAsync();

        var (status, headers) = await cluster.B.ConnectRefusedAsync($"{EchoConsumer.Path}?ticket={ticket}");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("5", Assert.Single(headers["Retry-After"]));
    }

    private static Task WaitForRedisAsync(RealtimeApplication app) =>
        Eventually.HoldsAsync(async () =>
        {
            using var health = await app.CreateClient().GetAsync("/health");
            return health.StatusCode == HttpStatusCode.OK;
        });

    private static async Task<string> IssueTicketAsync(RealtimeApplication app, string accessToken)
    {
        using var response = await app.CreateClient(accessToken).PostAsync("/ws/ticket", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ticket").GetString()!;
    }
}

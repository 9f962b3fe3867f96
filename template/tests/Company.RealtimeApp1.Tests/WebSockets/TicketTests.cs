using System.Buffers.Text;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Company.RealtimeApp1.WebSockets;

namespace Company.RealtimeApp1.Tests;

public sealed class TicketTests(RealtimeApplication app) : IClassFixture<RealtimeApplication>
{
    private const string Path = EchoConsumer.Path;

    [Fact]
    public async Task ABearerGetsARandomTicketThatExpiresIn30SecondsAndIsNeverCached()
    {
        var (_, token) = await app.SignInNewUserAsync();
        using var client = app.CreateClient(token);

        using var response = await client.PostAsync("/ws/ticket", null);
        using var another = await client.PostAsync("/ws/ticket", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Equal("no-cache", response.Headers.Pragma.ToString());
        var ticket = (await response.Content.ReadFromJsonAsync<Ticket>())!;
        Assert.Equal(30, ticket.ExpiresIn);
        Assert.Equal(32, Base64Url.DecodeFromChars(ticket.Value).Length);
        Assert.NotEqual(ticket.Value, (await another.Content.ReadFromJsonAsync<Ticket>())!.Value);
    }

    [Fact]
    public async Task WithoutABearerTokenThereIsNoTicket()
    {
        using var response = await app.CreateClient().PostAsync("/ws/ticket", null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task ATicketOpensASocketAsTheUserItWasIssuedTo()
    {
        var (userName, token) = await app.SignInNewUserAsync();
        var ticket = await IssueTicketAsync(app, token);

        await using var socket = await app.ConnectAsync($"{Path}?ticket={ticket}");

        var welcome = await socket.ReceiveJsonAsync("welcome");
        Assert.Equal(userName, welcome.GetProperty("user").GetProperty("username").GetString());
    }

    [Fact]
    public async Task ATicketWorksOnlyOnce()
    {
        var (_, token) = await app.SignInNewUserAsync();
        var ticket = await IssueTicketAsync(app, token);
        await using (var first = await app.ConnectAsync($"{Path}?ticket={ticket}"))
        {
            await first.ReceiveJsonAsync("welcome");
        }

        await using var second = await app.ConnectAsync($"{Path}?ticket={ticket}");

        await second.AssertRefusedAsync(401, "invalid_token", "The ticket is unknown, already used or expired.");
    }

    [Fact]
    public async Task AnUnknownTicketIsInvalidToken()
    {
        await using var socket = await app.ConnectAsync($"{Path}?ticket={WebSocketTicket.Create()}");

        await socket.AssertRefusedAsync(401, "invalid_token", "The ticket is unknown, already used or expired.");
    }

    [Fact]
    public async Task AnExpiredTicketIsInvalidToken()
    {
        using var shortTickets = RealtimeApplication.With(new() { ["WebSockets:TicketSeconds"] = "1" });
        var (_, token) = await shortTickets.SignInNewUserAsync();
        var ticket = await IssueTicketAsync(shortTickets, token);

        await Task.Delay(TimeSpan.FromSeconds(1.2));
        await using var socket = await shortTickets.ConnectAsync($"{Path}?ticket={ticket}");

        await socket.AssertRefusedAsync(401, "invalid_token", "The ticket is unknown, already used or expired.");
    }

    [Fact]
    public async Task ATicketIsRefusedOnceItsTokenIsNoLongerValid()
    {
        var (userName, token) = await app.SignInNewUserAsync();
        var ticket = await IssueTicketAsync(app, token);
        await app.ChangeUserAsync(userName, (users, user) => users.UpdateSecurityStampAsync(user));

        await using var socket = await app.ConnectAsync($"{Path}?ticket={ticket}");

        await socket.AssertRefusedAsync(401, "invalid_token", "The token's user no longer exists, is disabled, or has changed their credentials.");
    }

    [Fact]
    public async Task ATicketAndATokenAreTwoCredentials()
    {
        var (_, token) = await app.SignInNewUserAsync();
        var ticket = await IssueTicketAsync(app, token);

        await using var socket = await app.ConnectAsync($"{Path}?ticket={ticket}", token);

        await socket.AssertRefusedAsync(401, "invalid_token", "Only one credential may be sent, and this request carried more than one.");
    }

    [Fact]
    public async Task ATicketIsIgnoredOnHttpEndpointsAndStaysUnused()
    {
        var (_, token) = await app.SignInNewUserAsync();
        var ticket = await IssueTicketAsync(app, token);

        using var response = await app.CreateClient().GetAsync($"/me?ticket={ticket}");
        await using var socket = await app.ConnectAsync($"{Path}?ticket={ticket}");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        await socket.ReceiveJsonAsync("welcome");
    }

    [Fact]
    public async Task TheEleventhUnredeemedTicketIsTooManyRequestsWithRetryAfter()
    {
        var (_, token) = await app.SignInNewUserAsync();
        for (var i = 0; i < 10; i++)
        {
            await IssueTicketAsync(app, token);
        }

        using var response = await app.CreateClient(token).PostAsync("/ws/ticket", null);

        await AssertTooManyRequestsAsync(response, maxRetryAfter: 30);
    }

    [Fact]
    public async Task RedeemingATicketFreesASlot()
    {
        var (_, token) = await app.SignInNewUserAsync();
        var first = await IssueTicketAsync(app, token);
        for (var i = 1; i < 10; i++)
        {
            await IssueTicketAsync(app, token);
        }

        await using (var socket = await app.ConnectAsync($"{Path}?ticket={first}"))
        {
            await socket.ReceiveJsonAsync("welcome");
        }

        using var freed = await app.CreateClient(token).PostAsync("/ws/ticket", null);
        using var full = await app.CreateClient(token).PostAsync("/ws/ticket", null);

        Assert.Equal(HttpStatusCode.OK, freed.StatusCode);
        await AssertTooManyRequestsAsync(full, maxRetryAfter: 30);
    }

    [Fact]
    public async Task OneUsersTicketsDoNotCountAgainstAnother()
    {
        var (_, token) = await app.SignInNewUserAsync();
        var (_, otherToken) = await app.SignInNewUserAsync();
        for (var i = 0; i < 10; i++)
        {
            await IssueTicketAsync(app, token);
        }

        using var response = await app.CreateClient(otherToken).PostAsync("/ws/ticket", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task IssuingIsRateLimitedPerUserEvenWhenEveryTicketIsRedeemed()
    {
        using var limited = RealtimeApplication.With(new() { ["WebSockets:TicketsPerMinute"] = "3" });
        var (_, token) = await limited.SignInNewUserAsync();
        var (_, otherToken) = await limited.SignInNewUserAsync();
        for (var i = 0; i < 3; i++)
        {
            var ticket = await IssueTicketAsync(limited, token);
            await using var socket = await limited.ConnectAsync($"{Path}?ticket={ticket}");
            await socket.ReceiveJsonAsync("welcome");
        }

        using var refused = await limited.CreateClient(token).PostAsync("/ws/ticket", null);
        using var other = await limited.CreateClient(otherToken).PostAsync("/ws/ticket", null);

        // Three a minute: the next one is due in 20 seconds.
        await AssertTooManyRequestsAsync(refused, maxRetryAfter: 20);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task TheStoreRefusesTicketsBeyondTheCapUntilTheOldestExpires()
    {
        var time = new ManualTime();
        var store = new InMemoryWebSocketTicketStore(time);
        var user = Guid.NewGuid();
        await store.IssueAsync(user, "token", TimeSpan.FromSeconds(30), maxUnredeemed: 2);
        time.Advance(TimeSpan.FromSeconds(10));
        await store.IssueAsync(user, "token", TimeSpan.FromSeconds(30), maxUnredeemed: 2);

        var refused = await store.IssueAsync(user, "token", TimeSpan.FromSeconds(30), maxUnredeemed: 2);
        time.Advance(TimeSpan.FromSeconds(19));
        var stillRefused = await store.IssueAsync(user, "token", TimeSpan.FromSeconds(30), maxUnredeemed: 2);
        time.Advance(TimeSpan.FromSeconds(1));
        var issued = await store.IssueAsync(user, "token", TimeSpan.FromSeconds(30), maxUnredeemed: 2);

        Assert.Null(refused.Ticket);
        Assert.Equal(TimeSpan.FromSeconds(20), refused.RetryAfter);
        Assert.Null(stillRefused.Ticket);
        Assert.Equal(TimeSpan.FromSeconds(1), stillRefused.RetryAfter);
        Assert.NotNull(issued.Ticket);
    }

    [Fact]
    public async Task TheStoreFreesASlotWhenATicketIsRedeemedAndCountsEachUserApart()
    {
        var store = new InMemoryWebSocketTicketStore(new ManualTime());
        var user = Guid.NewGuid();
        var first = await store.IssueAsync(user, "token", TimeSpan.FromSeconds(30), maxUnredeemed: 1);

        var refused = await store.IssueAsync(user, "token", TimeSpan.FromSeconds(30), maxUnredeemed: 1);
        var otherUser = await store.IssueAsync(Guid.NewGuid(), "other", TimeSpan.FromSeconds(30), maxUnredeemed: 1);
        var redeemed = await store.RedeemAsync(first.Ticket!);
        var afterRedeeming = await store.IssueAsync(user, "token", TimeSpan.FromSeconds(30), maxUnredeemed: 1);

        Assert.Null(refused.Ticket);
        Assert.NotNull(otherUser.Ticket);
        Assert.Equal("token", redeemed);
        Assert.NotNull(afterRedeeming.Ticket);
    }

    [Fact]
    public async Task OfConcurrentIssuesBeyondTheCapExactlyTheCapSucceed()
    {
        var store = new InMemoryWebSocketTicketStore(TimeProvider.System);
        var user = Guid.NewGuid();

        var issued = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ =>
            Task.Run(() => store.IssueAsync(user, "token", TimeSpan.FromSeconds(30), maxUnredeemed: 10).AsTask())));

        Assert.Equal(10, issued.Count(i => i.Ticket is not null));
    }

    [Fact]
    public async Task OfConcurrentRedemptionsOfOneTicketExactlyOneSucceeds()
    {
        var store = new InMemoryWebSocketTicketStore(TimeProvider.System);
        var ticket = (await store.IssueAsync(Guid.NewGuid(), "the-access-token", TimeSpan.FromSeconds(30), maxUnredeemed: 10)).Ticket!;

        var redeemed = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(() => store.RedeemAsync(ticket).AsTask())));

        Assert.Equal("the-access-token", Assert.Single(redeemed, token => token is not null));
    }

    private static async Task<string> IssueTicketAsync(RealtimeApplication app, string accessToken)
    {
        using var response = await app.CreateClient(accessToken).PostAsync("/ws/ticket", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Ticket>())!.Value;
    }

    private static async Task AssertTooManyRequestsAsync(HttpResponseMessage response, int maxRetryAfter)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.InRange(int.Parse(Assert.Single(response.Headers.GetValues("Retry-After"))), 1, maxRetryAfter);
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        Assert.Equal(
            """{"error":"too_many_requests","error_description":"Too many requests; retry after the time in the Retry-After header."}""",
            await response.Content.ReadAsStringAsync());
    }

    /// <summary>A clock that moves only when told to.</summary>
    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }

    private sealed record Ticket(
        [property: JsonPropertyName("ticket")] string Value,
        [property: JsonPropertyName("expires_in")] int ExpiresIn);
}

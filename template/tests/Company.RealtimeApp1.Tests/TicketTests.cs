using System.Buffers.Text;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Company.RealtimeApp1.Realtime;

namespace Company.RealtimeApp1.Tests;

public sealed class TicketTests(RealtimeApplication app) : IClassFixture<RealtimeApplication>
{
    private const string Path = "/ws/notifications";

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
    public async Task OfConcurrentRedemptionsOfOneTicketExactlyOneSucceeds()
    {
        var store = new InMemoryWebSocketTicketStore(TimeProvider.System);
        var ticket = await store.IssueAsync("the-access-token", TimeSpan.FromSeconds(30));

        var redeemed = await Task.WhenAll(Enumerable.Range(0, 64).Select(_ => Task.Run(() => store.RedeemAsync(ticket).AsTask())));

        Assert.Equal("the-access-token", Assert.Single(redeemed, token => token is not null));
    }

    private static async Task<string> IssueTicketAsync(RealtimeApplication app, string accessToken)
    {
        using var response = await app.CreateClient(accessToken).PostAsync("/ws/ticket", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Ticket>())!.Value;
    }

    private sealed record Ticket(
        [property: JsonPropertyName("ticket")] string Value,
        [property: JsonPropertyName("expires_in")] int ExpiresIn);
}

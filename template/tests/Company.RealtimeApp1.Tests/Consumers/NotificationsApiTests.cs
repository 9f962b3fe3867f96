using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Company.RealtimeApp1.Tests;

public sealed class NotificationsApiTests(RealtimeApplication app) : IClassFixture<RealtimeApplication>
{
    [Fact]
    public async Task AnAdminSendsANotificationThatIsStoredThenDelivered()
    {
        var admin = await SignInAsync("admin");
        var recipient = await SignInAsync();
        await using var socket = await app.ConnectAsync("/ws/notifications", recipient.Token);
        await socket.ReceiveJsonAsync("welcome");

        using var response = await app.CreateClient(admin.Token).PostAsJsonAsync(
            "/api/notifications", new { userId = recipient.Id, title = "Build", body = "green", data = new { run = 7 } });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var delivered = await socket.ReceiveJsonAsync("notification");
        Assert.Equal(id, delivered.GetProperty("id").GetInt64());
        var stored = await app.CreateClient(recipient.Token).GetFromJsonAsync<JsonElement>("/api/notifications");
        var only = Assert.Single(stored.EnumerateArray());
        Assert.Equal(id, only.GetProperty("id").GetInt64());
        Assert.Equal(7, only.GetProperty("data").GetProperty("run").GetInt32());
        Assert.Equal(JsonValueKind.Null, only.GetProperty("readAt").ValueKind);
    }

    [Fact]
    public async Task OnlyAdminsSendNotifications()
    {
        var user = await SignInAsync();

        using var response = await app.CreateClient(user.Token).PostAsJsonAsync(
            "/api/notifications", new { userId = user.Id, title = "x", body = "y" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task ANotificationForAnUnknownUserIsAValidationProblem()
    {
        var admin = await SignInAsync("admin");

        using var response = await app.CreateClient(admin.Token).PostAsJsonAsync(
            "/api/notifications", new { userId = Guid.NewGuid(), title = "x", body = "y" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("No user has this id.", problem.GetProperty("errors").GetProperty("userId")[0].GetString());
    }

    [Fact]
    public async Task ANotificationForAnUnknownUserSentAmongOthersFailsAloneAndTheOthersAreStored()
    {
        var admin = await SignInAsync("admin");
        var recipient = await SignInAsync();
        var client = app.CreateClient(admin.Token);

        // Sent at once, so that the unknown recipient lands in a batch with the others.
        var sends = Enumerable.Range(0, 20)
            .Select(i => client.PostAsJsonAsync("/api/notifications", new { userId = (Guid?)(i == 10 ? Guid.NewGuid() : recipient.Id), title = $"n{i}", body = "" }))
            .ToList();
        var responses = await Task.WhenAll(sends);

        Assert.Equal(
            Enumerable.Range(0, 20).Select(i => i == 10 ? HttpStatusCode.BadRequest : HttpStatusCode.Accepted),
            responses.Select(response => response.StatusCode));
        var problem = await responses[10].Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("No user has this id.", problem.GetProperty("errors").GetProperty("userId")[0].GetString());
        var stored = await app.CreateClient(recipient.Token).GetFromJsonAsync<JsonElement>("/api/notifications");
        Assert.Equal(
            Enumerable.Range(0, 20).Where(i => i != 10).Select(i => $"n{i}").Order(StringComparer.Ordinal),
            stored.EnumerateArray().Select(n => n.GetProperty("title").GetString()!).Order(StringComparer.Ordinal));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task AnInvalidNotificationNamesEveryErrorAtOnce()
    {
        var admin = await SignInAsync("admin");

        using var response = await app.CreateClient(admin.Token).PostAsJsonAsync(
            "/api/notifications", new { userId = Guid.NewGuid(), title = "", body = "y" });

        await ValidationProblemBody.AssertAsync(response, new()
        {
            ["title"] = ["A title of 1 to 200 characters is required."],
            ["userId"] = ["No user has this id."],
        });
    }

    [Theory]
    [InlineData("{\"title\":\"   \",\"body\":\"y\"}", "title", "A title of 1 to 200 characters is required.")]
    [InlineData("{\"title\":\"t\"}", "body", "A body of at most 4000 characters is required.")]
    public async Task ABlankTitleOrAMissingBodyIsAValidationProblem(string fields, string field, string message)
    {
        var admin = await SignInAsync("admin");
        var request = fields.Replace("{", $"{{\"userId\":\"{admin.Id}\",", StringComparison.Ordinal);

        using var response = await app.CreateClient(admin.Token).PostAsync(
            "/api/notifications", new StringContent(request, System.Text.Encoding.UTF8, "application/json"));

        await ValidationProblemBody.AssertAsync(response, new() { [field] = [message] });
    }

    [Theory]
    [InlineData("limit=0", "limit", "limit is 1 to 200.")]
    [InlineData("limit=201", "limit", "limit is 1 to 200.")]
    [InlineData("since=-1", "since", "since is 0 or more.")]
    public async Task AListingOutOfRangeIsAValidationProblem(string query, string field, string message)
    {
        var user = await SignInAsync();

        using var response = await app.CreateClient(user.Token).GetAsync($"/api/notifications?{query}");

        await ValidationProblemBody.AssertAsync(response, new() { [field] = [message] });
    }

    [Fact]
    public async Task ListingPagesThroughTheCallersNotificationsInAscendingId()
    {
        var admin = await SignInAsync("admin");
        var recipient = await SignInAsync();
        var other = await SignInAsync();
        var ids = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await SendAsync(admin, recipient.Id, $"n{i}"));
            await SendAsync(admin, other.Id, "not yours");
        }

        var page = await app.CreateClient(recipient.Token).GetFromJsonAsync<JsonElement>($"/api/notifications?since={ids[0]}&limit=1");
        var all = await app.CreateClient(recipient.Token).GetFromJsonAsync<JsonElement>("/api/notifications");

        Assert.Equal([ids[1]], page.EnumerateArray().Select(n => n.GetProperty("id").GetInt64()));
        Assert.Equal(ids, all.EnumerateArray().Select(n => n.GetProperty("id").GetInt64()));
    }

    [Fact]
    public async Task TheOwnerMarksANotificationReadAndNoOneElseCan()
    {
        var admin = await SignInAsync("admin");
        var recipient = await SignInAsync();
        var other = await SignInAsync();
        var id = await SendAsync(admin, recipient.Id, "read me");

        using var byOther = await app.CreateClient(other.Token).PostAsync($"/api/notifications/{id}/read", null);
        using var byOwner = await app.CreateClient(recipient.Token).PostAsync($"/api/notifications/{id}/read", null);

        Assert.Equal(HttpStatusCode.NotFound, byOther.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, byOwner.StatusCode);
        var stored = await app.CreateClient(recipient.Token).GetFromJsonAsync<JsonElement>("/api/notifications");
        Assert.NotEqual(JsonValueKind.Null, Assert.Single(stored.EnumerateArray()).GetProperty("readAt").ValueKind);
    }

    [Fact]
    public async Task AReconnectingClientGetsTheNotificationsItMissedExactlyOnce()
    {
        var admin = await SignInAsync("admin");
        var recipient = await SignInAsync();
        var seen = await SendAsync(admin, recipient.Id, "seen");
        var missed1 = await SendAsync(admin, recipient.Id, "missed 1");
        var missed2 = await SendAsync(admin, recipient.Id, "missed 2");

        await using var socket = await app.ConnectAsync($"/ws/notifications?since={seen}", recipient.Token);
        await socket.ReceiveJsonAsync("welcome");
        var replayed = new[] { await socket.ReceiveJsonAsync("notification"), await socket.ReceiveJsonAsync("notification") };
        var resumed = await socket.ReceiveJsonAsync("resumed");
        var live = await SendAsync(admin, recipient.Id, "live");

        Assert.Equal([missed1, missed2], replayed.Select(n => n.GetProperty("id").GetInt64()));
        Assert.True(resumed.GetProperty("recovered").GetBoolean());
        Assert.Equal(live, (await socket.ReceiveJsonAsync("notification")).GetProperty("id").GetInt64());
        Assert.True(await socket.ReceivesNothingWithinAsync(TimeSpan.FromMilliseconds(300)));
    }

    private sealed record SignedIn(Guid Id, string Token);

    private async Task<SignedIn> SignInAsync(params string[] roles)
    {
        var (userName, password) = await app.CreateUniqueUserAsync(roles);
        var token = (await app.SignInAsync(userName, password)).AccessToken;
        return new SignedIn(Guid.Parse(new JsonWebToken(token).Subject), token);
    }

    private async Task<long> SendAsync(SignedIn admin, Guid userId, string title)
    {
        using var response = await app.CreateClient(admin.Token).PostAsJsonAsync("/api/notifications", new { userId, title, body = "" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }
}

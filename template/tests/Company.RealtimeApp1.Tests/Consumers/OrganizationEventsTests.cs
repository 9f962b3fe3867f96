using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Company.RealtimeApp1.Organizations;
using Microsoft.EntityFrameworkCore;

namespace Company.RealtimeApp1.Tests;

public sealed class OrganizationEventsTests(RealtimeApplication app) : IClassFixture<RealtimeApplication>
{
    [Fact]
    public async Task AnEventPostedOverHttpReachesEveryMemberOfThatOrganizationOnly()
    {
        var (org, admin, member) = await CreateOrganizationAsync();
        var other = await CreateOrganizationAsync();
        await using var memberSocket = await ConnectAsync(member, org.Id);
        await using var outsiderSocket = await ConnectAsync(other.Admin, other.Org.Id);

        using var response = await app.CreateClient(admin.Token).PostAsJsonAsync(
            $"/api/orgs/{org.Id}/events", new { type = "deploy.started", data = new { version = "1.2.3" } });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
        var received = await memberSocket.ReceiveJsonAsync("org.event");
        Assert.Equal(id, received.GetProperty("id").GetInt64());
        Assert.Equal(org.Id, received.GetProperty("orgId").GetGuid());
        Assert.Equal("deploy.started", received.GetProperty("event").GetString());
        Assert.Equal("1.2.3", received.GetProperty("data").GetProperty("version").GetString());
        Assert.Equal(admin.UserName, received.GetProperty("sender").GetProperty("username").GetString());
        Assert.Equal(admin.Id, received.GetProperty("sender").GetProperty("id").GetGuid());
        Assert.True(await outsiderSocket.ReceivesNothingWithinAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task AMemberPublishesOverTheSocketAndEveryMemberReceivesIt()
    {
        var (org, admin, member) = await CreateOrganizationAsync();
        await using var adminSocket = await ConnectAsync(admin, org.Id);
        await using var memberSocket = await ConnectAsync(member, org.Id);

        await memberSocket.SendJsonAsync(new { type = "publish", @event = "chat", data = new { text = "hi" } });

        foreach (var socket in new[] { adminSocket, memberSocket })
        {
            var received = await socket.ReceiveJsonAsync("org.event");
            Assert.Equal("chat", received.GetProperty("event").GetString());
            Assert.Equal(member.UserName, received.GetProperty("sender").GetProperty("username").GetString());
        }
    }

    [Fact]
    public async Task EventsPublishedAtTheSameTimeArriveInIdOrder()
    {
        // A client resumes after the last id it saw: a later id arriving first would make it skip one.
        var (org, admin, member) = await CreateOrganizationAsync();
        await using var socket = await ConnectAsync(member, org.Id);
        var events = app.Services.GetRequiredService<Consumers.OrganizationEvents>();
        var sender = new Consumers.EventSender(admin.Id, admin.UserName);

        var ids = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => events.PublishOrgEventAsync(org.Id, sender, $"e{i}")));

        Assert.Equal(ids.Order(), await socket.ReceiveIdsAsync("org.event", ids.Length));
    }

    [Fact]
    public async Task APublishWithoutAnEventNameIsAnInvalidMessage()
    {
        var (org, _, member) = await CreateOrganizationAsync();
        await using var socket = await ConnectAsync(member, org.Id);

        await socket.SendJsonAsync(new { type = "publish", data = 1 });
        var error = await socket.ReceiveJsonAsync("error");

        Assert.Equal("invalid_message", error.GetProperty("code").GetString());
        Assert.Equal("'event' must be a non-empty string of at most 100 characters.", error.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task ANonMemberCannotPostEvents()
    {
        var (org, _, _) = await CreateOrganizationAsync();
        var outsider = await app.CreateSignedInUserAsync();

        using var response = await app.CreateClient(outsider.Token).PostAsJsonAsync($"/api/orgs/{org.Id}/events", new { type = "x" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task TheHandshakeReadsMembershipFromTheDatabaseEvenRightAfterAPublishWasLetIn()
    {
        // Publishing remembers the membership for a while; the handshake must not rely on that.
        var (org, _, member) = await CreateOrganizationAsync();
        await PublishAsync(member, org.Id, "before");
        using (var scope = app.Services.CreateScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<Data.AppDbContext>();
            // Behind the app's back: no revocation is published.
            await db.Memberships.Where(m => m.OrganizationId == org.Id && m.UserId == member.Id)
                .ExecuteDeleteAsync();
        }

        await using var socket = await app.ConnectAsync($"/ws/events/{org.Id}", member.Token);

        await socket.AssertRefusedAsync(403, "forbidden", "You are not a member of this organization.");
    }

    [Fact]
    public async Task TheAllZeroOrganizationIdIsNoOnesOrganization()
    {
        // A signed-in user's own checks are remembered too; none of that may pass for a membership.
        var user = await app.CreateSignedInUserAsync();
        var nil = Guid.Empty;
        using var me = await app.CreateClient(user.Token).GetAsync("/me");
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);

        using var response = await app.CreateClient(user.Token).PostAsJsonAsync($"/api/orgs/{nil}/events", new { type = "x" });
        await using var socket = await app.ConnectAsync($"/ws/events/{nil}", user.Token);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        await socket.AssertRefusedAsync(403, "forbidden", "You are not a member of this organization.");
    }

    [Fact]
    public async Task AnEventWithoutATypeIsAValidationProblem()
    {
        var (org, admin, _) = await CreateOrganizationAsync();

        using var response = await app.CreateClient(admin.Token).PostAsJsonAsync($"/api/orgs/{org.Id}/events", new { data = 1 });

        await ValidationProblemBody.AssertAsync(response, new() { ["type"] = ["A type of 1 to 100 characters is required."] });
    }

    [Fact]
    public async Task AnOrganizationAdminAddsAndRemovesMembers()
    {
        var (org, admin, _) = await CreateOrganizationAsync();
        var newcomer = await app.CreateSignedInUserAsync();

        using var added = await app.CreateClient(admin.Token).PostAsJsonAsync(
            $"/api/orgs/{org.Id}/members", new { userId = newcomer.Id, role = "member" });
        await using (var socket = await app.ConnectAsync($"/ws/events/{org.Id}", newcomer.Token))
        {
            Assert.Equal("welcome", (await socket.ReceiveJsonAsync()).GetProperty("type").GetString());
        }

        using var removed = await app.CreateClient(admin.Token).DeleteAsync($"/api/orgs/{org.Id}/members/{newcomer.Id}");
        using var removedAgain = await app.CreateClient(admin.Token).DeleteAsync($"/api/orgs/{org.Id}/members/{newcomer.Id}");

        Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        Assert.Equal($$"""{"userId":"{{newcomer.Id}}","role":"member"}""", await added.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, removedAgain.StatusCode);
        using var events = await app.CreateClient(newcomer.Token).PostAsJsonAsync($"/api/orgs/{org.Id}/events", new { type = "x" });
        Assert.Equal(HttpStatusCode.Forbidden, events.StatusCode);
    }

    [Fact]
    public async Task APlainMemberCannotManageMembers()
    {
        var (org, admin, member) = await CreateOrganizationAsync();

        using var response = await app.CreateClient(member.Token).DeleteAsync($"/api/orgs/{org.Id}/members/{admin.Id}");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task AddingAMemberWithAnUnknownRoleIsAValidationProblem()
    {
        var (org, admin, member) = await CreateOrganizationAsync();

        using var response = await app.CreateClient(admin.Token).PostAsJsonAsync(
            $"/api/orgs/{org.Id}/members", new { userId = member.Id, role = "owner" });

        await ValidationProblemBody.AssertAsync(response, new() { ["role"] = ["role is 'member' or 'admin'."] });
    }

    [Fact]
    public async Task AReconnectingMemberGetsEveryEventAfterTheLastItSawInOrderThenTheLiveStream()
    {
        var (org, admin, member) = await CreateOrganizationAsync();
        var first = await PublishAsync(admin, org.Id, "one");
        var second = await PublishAsync(admin, org.Id, "two");
        var third = await PublishAsync(admin, org.Id, "three");

        await using var socket = await ConnectAsync(member, org.Id, since: first);
        var replayed = new[] { await socket.ReceiveJsonAsync("org.event"), await socket.ReceiveJsonAsync("org.event") };
        var resumed = await socket.ReceiveJsonAsync("resumed");
        var live = await PublishAsync(admin, org.Id, "four");
        var liveReceived = await socket.ReceiveJsonAsync("org.event");

        Assert.Equal([second, third], replayed.Select(e => e.GetProperty("id").GetInt64()));
        Assert.True(resumed.GetProperty("recovered").GetBoolean());
        Assert.Equal(live, liveReceived.GetProperty("id").GetInt64());
    }

    [Fact]
    public async Task ResumingFromBeforeTheBoundedHistoryIsNotRecovered()
    {
        using var small = RealtimeApplication.With(new() { ["WebSockets:OrgHistory"] = "2" });
        var admin = await small.CreateSignedInUserAsync();
        var org = await small.CreateOrganizationAsync("hist-" + Guid.NewGuid().ToString("N")[..8], (admin.UserName, OrganizationRole.Admin));
        var first = await PublishAsync(admin, org.Id, "one", small);
        await PublishAsync(admin, org.Id, "two", small);
        var third = await PublishAsync(admin, org.Id, "three", small);
        var fourth = await PublishAsync(admin, org.Id, "four", small);

        await using var socket = await small.ConnectAsync($"/ws/events/{org.Id}?since={first}", admin.Token);
        await socket.ReceiveJsonAsync("welcome");
        var replayed = new[] { await socket.ReceiveJsonAsync("org.event"), await socket.ReceiveJsonAsync("org.event") };
        var resumed = await socket.ReceiveJsonAsync("resumed");

        Assert.Equal([third, fourth], replayed.Select(e => e.GetProperty("id").GetInt64()));
        Assert.False(resumed.GetProperty("recovered").GetBoolean());
    }

    [Fact]
    public async Task AResumeMessageReplaysWhatTheClientMissed()
    {
        var (org, admin, member) = await CreateOrganizationAsync();
        var first = await PublishAsync(admin, org.Id, "one");
        var second = await PublishAsync(admin, org.Id, "two");
        await using var socket = await ConnectAsync(member, org.Id);

        await socket.SendJsonAsync(new { type = "resume", since = first });

        Assert.Equal(second, (await socket.ReceiveJsonAsync("org.event")).GetProperty("id").GetInt64());
        Assert.True((await socket.ReceiveJsonAsync("resumed")).GetProperty("recovered").GetBoolean());
    }

    private sealed record TestOrg(Guid Id, string Slug);

    // The realtime layer's membership tests run on the test-only presence consumer; these two hold the example
    // endpoint itself to SPEC §3 (members only; a removal closes the socket 4003 within 2 s).
    [Fact]
    public async Task ANonMemberIsRefusedOnTheEventsEndpointWith4003()
    {
        var (org, _, _) = await CreateOrganizationAsync();
        var outsider = await app.CreateSignedInUserAsync();

        await using var socket = await app.ConnectAsync($"/ws/events/{org.Id}", outsider.Token);

        await socket.AssertRefusedAsync(403, "forbidden", "You are not a member of this organization.");
    }

    [Fact]
    public async Task RemovingAMemberClosesTheirEventsSocketWith4003WithinTwoSeconds()
    {
        var (org, admin, member) = await CreateOrganizationAsync();
        await using var socket = await ConnectAsync(member, org.Id);

        var started = DateTime.UtcNow;
        using var removed = await app.CreateClient(admin.Token).DeleteAsync($"/api/orgs/{org.Id}/members/{member.Id}");
        var close = await socket.ReceiveCloseAsync();

        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal((4003, "membership removed"), close);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(2));
    }

    private async Task<(TestOrg Org, TestUser Admin, TestUser Member)> CreateOrganizationAsync()
    {
        var admin = await app.CreateSignedInUserAsync();
        var member = await app.CreateSignedInUserAsync();
        var slug = "org-" + Guid.NewGuid().ToString("N")[..8];
        var org = await app.CreateOrganizationAsync(slug, (admin.UserName, OrganizationRole.Admin), (member.UserName, OrganizationRole.Member));
        return (new TestOrg(org.Id, slug), admin, member);
    }

    private async Task<TestSocket> ConnectAsync(TestUser user, Guid orgId, long? since = null)
    {
        var socket = await app.ConnectAsync($"/ws/events/{orgId}" + (since is null ? "" : $"?since={since}"), user.Token);
        await socket.ReceiveJsonAsync("welcome");
        return socket;
    }

    private async Task<long> PublishAsync(TestUser sender, Guid orgId, string type, RealtimeApplication? target = null)
    {
        using var response = await (target ?? app).CreateClient(sender.Token).PostAsJsonAsync($"/api/orgs/{orgId}/events", new { type });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }
}

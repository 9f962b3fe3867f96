using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Company.RealtimeApp1.Organizations;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// Presence and signals on <c>/ws/events/{orgId}</c> (SPEC §3): who is online after the welcome, each user once;
/// <c>presence.joined</c> and <c>presence.left</c> on a user's first and last socket; signals to the others, never stored.
/// </summary>
public sealed class OrganizationPresenceTests(RealtimeApplication app) : IClassFixture<RealtimeApplication>
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(500);

    [Fact]
    public async Task AfterTheWelcomeAMemberGetsWhoIsOnlineEachUserOnceThemselvesIncluded()
    {
        var (org, alice, bob, carol) = await OrganizationAsync();
        await using var aliceTab1 = await app.JoinedAsync(PathFor(org), alice.Token);
        await using var aliceTab2 = await app.JoinedAsync(PathFor(org), alice.Token);
        await using var bobTab = await app.JoinedAsync(PathFor(org), bob.Token);

        await using var carolTab = await ConnectWatchingAsync(org, carol);
        var presence = await carolTab.ReceiveJsonAsync("presence");

        Assert.Equal(
            new[] { alice, bob, carol }.Select(user => (user.Id.ToString(), user.UserName)).Order(),
            Members(presence).Order());
    }

    [Fact]
    public async Task JoinedWhenAUsersFirstSocketOpensAndLeftWhenTheirLastOneCloses()
    {
        var (org, alice, bob, _) = await OrganizationAsync();
        await using var watcher = await ConnectWatchingAsync(org, alice);
        await watcher.ReceiveJsonAsync("presence");

        var bobTab1 = await app.JoinedAsync(PathFor(org), bob.Token);
        var joined = await watcher.ReceiveJsonAsync("presence.joined");
        var bobTab2 = await app.JoinedAsync(PathFor(org), bob.Token);
        await bobTab1.DisposeAsync();
        Assert.True(await watcher.ReceivesNothingWithinAsync(Quiet));
        await bobTab2.DisposeAsync();
        var left = await watcher.ReceiveJsonAsync("presence.left");

        Assert.Equal((bob.Id.ToString(), bob.UserName), User(joined));
        Assert.Equal((bob.Id.ToString(), bob.UserName), User(left));
    }

    [Fact]
    public async Task ARemovedMemberDisappearsFromPresenceAtOnce()
    {
        var (org, alice, bob, _) = await OrganizationAsync();
        await using var watcher = await ConnectWatchingAsync(org, alice);
        await watcher.ReceiveJsonAsync("presence");
        await using var bobTab = await app.JoinedAsync(PathFor(org), bob.Token);
        await watcher.ReceiveJsonAsync("presence.joined");

        using var removed = await app.CreateClient(alice.Token).DeleteAsync($"/api/orgs/{org}/members/{bob.Id}");

        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal((bob.Id.ToString(), bob.UserName), User(await watcher.ReceiveJsonAsync("presence.left")));
    }

    [Fact]
    public async Task AResumingSocketGetsPresenceAfterTheReplayAndResumed()
    {
        var (org, alice, bob, _) = await OrganizationAsync();
        await PublishAsync(org, alice);
        await using var socket = await app.ConnectAsync($"{PathFor(org)}?since=0", bob.Token);
        socket.SkipsPresence = false;

        await socket.ReceiveJsonAsync("welcome");
        await socket.ReceiveJsonAsync("org.event");
        await socket.ReceiveJsonAsync("resumed");

        Assert.Equal([(bob.Id.ToString(), bob.UserName)], Members(await socket.ReceiveJsonAsync("presence")));
    }

    [Fact]
    public async Task ASignalGoesToTheOrganizationsOtherSocketsOnlyWithItsSender()
    {
        var (org, alice, bob, _) = await OrganizationAsync();
        await using var aliceTab1 = await app.JoinedAsync(PathFor(org), alice.Token);
        await using var aliceTab2 = await app.JoinedAsync(PathFor(org), alice.Token);
        await using var bobTab = await app.JoinedAsync(PathFor(org), bob.Token);

        await aliceTab1.SendJsonAsync(new { type = "signal", @event = "typing", data = new { on = true } });

        foreach (var other in new[] { aliceTab2, bobTab })
        {
            var signal = await other.ReceiveJsonAsync("org.signal");
            Assert.Equal(["type", "event", "data", "sender"], signal.EnumerateObject().Select(p => p.Name));
            Assert.Equal("typing", signal.GetProperty("event").GetString());
            Assert.True(signal.GetProperty("data").GetProperty("on").GetBoolean());
            Assert.Equal(alice.Id.ToString(), signal.GetProperty("sender").GetProperty("id").GetString());
        }

        Assert.True(await aliceTab1.ReceivesNothingWithinAsync(Quiet));
    }

    [Fact]
    public async Task ASignalIsNeverStoredNorReplayed()
    {
        var (org, alice, bob, _) = await OrganizationAsync();
        await using (var aliceTab = await app.JoinedAsync(PathFor(org), alice.Token))
        {
            await aliceTab.SendJsonAsync(new { type = "signal", @event = "typing" });
            await aliceTab.SendJsonAsync(new { type = "ping" });
            await aliceTab.ReceiveJsonAsync("pong");
        }

        await using var bobTab = await app.ConnectAsync($"{PathFor(org)}?since=0", bob.Token);
        await bobTab.ReceiveJsonAsync("welcome");

        Assert.True((await bobTab.ReceiveJsonAsync("resumed")).GetProperty("recovered").GetBoolean());
        Assert.True(await bobTab.ReceivesNothingWithinAsync(Quiet));
    }

    [Fact]
    public async Task ASignalTooLargeForASocketIsInvalidMessageAndGoesNowhere()
    {
        var (org, alice, bob, _) = await OrganizationAsync();
        await using var aliceTab = await app.JoinedAsync(PathFor(org), alice.Token);
        await using var bobTab = await app.JoinedAsync(PathFor(org), bob.Token);

        // Under 64 KiB as sent, over it once the sender and the type are added.
        await aliceTab.SendJsonAsync(new { type = "signal", @event = "typing", data = new string('x', 65_450) });
        var error = await aliceTab.ReceiveJsonAsync("error");

        Assert.Equal("invalid_message", error.GetProperty("code").GetString());
        Assert.True(await bobTab.ReceivesNothingWithinAsync(Quiet));
    }

    [Fact]
    public async Task ASignalWithoutAnEventIsInvalidMessage()
    {
        var (org, alice, _, _) = await OrganizationAsync();
        await using var aliceTab = await app.JoinedAsync(PathFor(org), alice.Token);

        await aliceTab.SendJsonAsync(new { type = "signal" });
        var error = await aliceTab.ReceiveJsonAsync("error");

        Assert.Equal(("invalid_message", "'event' must be a non-empty string of at most 100 characters."),
            (error.GetProperty("code").GetString(), error.GetProperty("detail").GetString()));
    }

    private async Task<TestSocket> ConnectWatchingAsync(Guid org, TestUser user)
    {
        var socket = await app.ConnectAsync(PathFor(org), user.Token);
        socket.SkipsPresence = false;
        await socket.ReceiveJsonAsync("welcome");
        return socket;
    }

    private static string PathFor(Guid org) => $"/ws/events/{org}";

    private static IEnumerable<(string, string)> Members(JsonElement presence) =>
        presence.GetProperty("members").EnumerateArray().Select(member => (member.GetProperty("id").GetString()!, member.GetProperty("username").GetString()!));

    private static (string, string) User(JsonElement change) =>
        (change.GetProperty("user").GetProperty("id").GetString()!, change.GetProperty("user").GetProperty("username").GetString()!);

    private async Task PublishAsync(Guid org, TestUser sender)
    {
        using var response = await app.CreateClient(sender.Token).PostAsJsonAsync($"/api/orgs/{org}/events", new { type = "tick" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    private async Task<(Guid Org, TestUser Alice, TestUser Bob, TestUser Carol)> OrganizationAsync()
    {
        var alice = await app.CreateSignedInUserAsync();
        var bob = await app.CreateSignedInUserAsync();
        var carol = await app.CreateSignedInUserAsync();
        var org = await app.CreateOrganizationAsync("here-" + Guid.NewGuid().ToString("N")[..8],
            (alice.UserName, OrganizationRole.Admin), (bob.UserName, OrganizationRole.Member), (carol.UserName, OrganizationRole.Member));
        return (org.Id, alice, bob, carol);
    }
}

using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Company.RealtimeApp1.Organizations;

namespace Company.RealtimeApp1.Tests;

/// <summary>The README's "Adding a consumer" compiles as written and does what it says: a stored stream under an organization's, with resume, in one file.</summary>
public sealed partial class AnnouncementsConsumerTests(RealtimeApplication app) : IClassFixture<RealtimeApplication>
{
    public const string Path = "/ws/announcements/{orgId}";

    [Fact]
    public void TheReadmesConsumerIsTheOneTheseTestsRunWordForWord()
    {
        var readme = Solution.ReadReadme();
        var tested = File.ReadAllText(System.IO.Path.Combine(Solution.Directory, "tests", typeof(AnnouncementsConsumerTests).Assembly.GetName().Name!, "Support", "AnnouncementsConsumer.cs"))
            .ReplaceLineEndings("\n");

        var block = ReadmeConsumer().Match(readme);

        Assert.True(block.Success, "The README's 'Adding a consumer' has no `Consumers/AnnouncementsConsumer.cs` block.");
        Assert.Equal(tested, block.Groups["code"].Value);
    }

    [Fact]
    public async Task MembersGetEachAnnouncementWithItsPositionAndOneWhoReconnectsWithSinceCatchesUp()
    {
        var (org, alice, bob) = await OrganizationAsync();
        await using var aliceSocket = await app.JoinedAsync(PathFor(org), alice.Token);
        await using var bobSocket = await app.JoinedAsync(PathFor(org), bob.Token);

        await aliceSocket.SendJsonAsync(new { type = "announce", text = "Lunch at noon" });
        await aliceSocket.SendJsonAsync(new { type = "announce", text = "Cake too" });

        foreach (var socket in new[] { aliceSocket, bobSocket })
        {
            var first = await socket.ReceiveJsonAsync("announcement");
            Assert.Equal((1, "Lunch at noon", alice.UserName), (first.GetProperty("id").GetInt64(), first.GetProperty("text").GetString(), first.GetProperty("by").GetString()));
            Assert.Equal(2, (await socket.ReceiveJsonAsync("announcement")).GetProperty("id").GetInt64());
        }

        await using var reconnected = await app.ConnectAsync($"{PathFor(org)}?since=1", bob.Token);
        await reconnected.ReceiveJsonAsync("welcome");
        Assert.Equal("Cake too", (await reconnected.ReceiveJsonAsync("announcement")).GetProperty("text").GetString());
        Assert.True((await reconnected.ReceiveJsonAsync("resumed")).GetProperty("recovered").GetBoolean());
    }

    [Fact]
    public async Task TypingGoesToTheOtherMembersInTheStandardEnvelopeAndNotBackToTheSender()
    {
        var (org, alice, bob) = await OrganizationAsync();
        await using var aliceSocket = await app.JoinedAsync(PathFor(org), alice.Token);
        await using var bobSocket = await app.JoinedAsync(PathFor(org), bob.Token);

        await aliceSocket.SendJsonAsync(new { type = "typing" });
        var typing = await bobSocket.ReceiveJsonAsync("typing");

        Assert.Equal(alice.Id.ToString(), typing.GetProperty("sender").GetProperty("id").GetString());
        Assert.Equal(alice.UserName, typing.GetProperty("sender").GetProperty("username").GetString());
        Assert.Equal(JsonValueKind.Object, typing.GetProperty("data").ValueKind);
        Assert.False(typing.TryGetProperty("id", out _));
        Assert.True(await aliceSocket.ReceivesNothingWithinAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task AnAnnouncementWithoutTextIsInvalidMessageAndTheSocketStaysOpen()
    {
        var (org, alice, _) = await OrganizationAsync();
        await using var socket = await app.JoinedAsync(PathFor(org), alice.Token);

        await socket.SendJsonAsync(new { type = "announce" });
        var error = await socket.ReceiveJsonAsync("error");

        Assert.Equal(("invalid_message", "'text' is required."), (error.GetProperty("code").GetString(), error.GetProperty("detail").GetString()));
        await socket.SendJsonAsync(new { type = "ping" });
        await socket.ReceiveJsonAsync("pong");
    }

    [Fact]
    public async Task ARemovedMembersSocketOnTheStreamUnderTheOrganizationsIsClosed4003()
    {
        var (org, alice, bob) = await OrganizationAsync();
        await using var socket = await app.JoinedAsync(PathFor(org), bob.Token);

        using var removed = await app.CreateClient(alice.Token).DeleteAsync($"/api/orgs/{org}/members/{bob.Id}");

        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal((4003, "membership removed"), await socket.ReceiveCloseAsync());
    }

    [Fact]
    public async Task ANonMemberIsRefused4003()
    {
        var (org, _, _) = await OrganizationAsync();
        var stranger = await app.CreateSignedInUserAsync();

        await using var socket = await app.ConnectAsync(PathFor(org), stranger.Token);

        await socket.AssertRefusedAsync(403, "forbidden", "You are not a member of this organization.");
    }

    private static string PathFor(Guid org) => Path.Replace("{orgId}", org.ToString(), StringComparison.Ordinal);

    private async Task<(Guid Org, TestUser Alice, TestUser Bob)> OrganizationAsync()
    {
        var alice = await app.CreateSignedInUserAsync();
        var bob = await app.CreateSignedInUserAsync();
        var org = await app.CreateOrganizationAsync("news-" + Guid.NewGuid().ToString("N")[..8],
            (alice.UserName, OrganizationRole.Admin), (bob.UserName, OrganizationRole.Member));
        return (org.Id, alice, bob);
    }

    [GeneratedRegex("`Consumers/AnnouncementsConsumer.cs`, all of it:\n\n```csharp\n(?<code>.*?)```", RegexOptions.Singleline)]
    private static partial Regex ReadmeConsumer();
}

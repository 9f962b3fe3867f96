using System.Net;
using Company.RealtimeApp1.Organizations;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Company.RealtimeApp1.Tests;

/// <summary>An organization's stream is for its members: checked at the handshake, withdrawn when they leave.</summary>
public sealed class MembershipSocketTests(RealtimeApplication app) : IClassFixture<RealtimeApplication>
{
    [Fact]
    public async Task AnAuthenticatedUserWhoIsNotAMemberIsToldForbiddenAndClosedWith4003()
    {
        var organization = await app.CreateOrganizationAsync("org-" + Guid.NewGuid().ToString("N")[..8]);
        var (_, token) = await app.SignInNewUserAsync();

        await using var socket = await app.ConnectAsync(PresenceConsumer.PathFor(organization.Id), token);

        await socket.AssertRefusedAsync(403, "forbidden", "You are not a member of this organization.");
    }

    [Theory]
    [InlineData("6f1d2c3b-0000-4000-8000-000000000000")]
    [InlineData("not-an-id")]
    public async Task AnUnknownOrganizationIsForbiddenLikeOneTheUserIsNotIn(string orgId)
    {
        var (_, token) = await app.SignInNewUserAsync();

        await using var socket = await app.ConnectAsync(PresenceConsumer.PathFor(orgId), token);

        await socket.AssertRefusedAsync(403, "forbidden", "You are not a member of this organization.");
    }

    [Fact]
    public async Task WithRejectWithHttpStatusANonMemberIsA403BeforeTheUpgrade()
    {
        using var httpStatusApp = RealtimeApplication.With(new() { ["WebSockets:RejectWith"] = "HttpStatus" });
        var organization = await httpStatusApp.CreateOrganizationAsync("org-" + Guid.NewGuid().ToString("N")[..8]);
        var (_, token) = await httpStatusApp.SignInNewUserAsync();

        var (status, _) = await httpStatusApp.ConnectRefusedAsync(
            PresenceConsumer.PathFor(organization.Id), options => options.SetRequestHeader("Authorization", "Bearer " + token));

        Assert.Equal(HttpStatusCode.Forbidden, status);
    }

    [Fact]
    public async Task RemovingAMemberClosesTheirSocketsOnThatOrganizationWith4003AndNoOthers()
    {
        var (adminName, adminToken) = await app.SignInNewUserAsync();
        var (memberName, memberToken) = await app.SignInNewUserAsync();
        var org = await app.CreateOrganizationAsync("rev-" + Guid.NewGuid().ToString("N")[..8],
            (adminName, OrganizationRole.Admin), (memberName, OrganizationRole.Member));
        var memberId = new JsonWebToken(memberToken).Subject;
        await using var orgSocket = await app.ConnectAsync(PresenceConsumer.PathFor(org.Id), memberToken);
        await using var userSocket = await app.ConnectAsync(EchoConsumer.Path, memberToken);
        await orgSocket.ReceiveJsonAsync("welcome");
        await userSocket.ReceiveJsonAsync("welcome");

        var started = DateTime.UtcNow;
        using var removed = await app.CreateClient(adminToken).DeleteAsync($"/api/orgs/{org.Id}/members/{memberId}");
        var close = await orgSocket.ReceiveCloseAsync();

        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal((4003, "membership removed"), close);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.Zero, TimeSpan.FromSeconds(2));
        await userSocket.SendJsonAsync(new { type = "ping" });
        await userSocket.ReceiveJsonAsync("pong");
    }
}

using System.Net;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.WebSockets;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// A consumer of a stream under an organization's (here a test-only presence stream, nothing stored) gets
/// membership checks and revocations without any code of its own: one registration line.
/// </summary>
public sealed class OrganizationSubStreamTests : IDisposable
{
    private static readonly TimeSpan Promptly = TimeSpan.FromSeconds(2);

    // PresenceConsumer is registered for every test app (Support/RealtimeApplication.cs) with the one line a
    // consumer of the app needs: services.AddConsumer<PresenceConsumer>(PresenceConsumer.Path, e => e.RequireAuthorization(OrganizationPolicies.Member)).
    private readonly RealtimeApplication _app = RealtimeApplication.With([]);

    [Fact]
    public async Task EveryMemberOnThePresenceStreamReceivesWhatAMemberPublishes()
    {
        var (org, admin, member) = await CreateOrganizationAsync();
        await using var adminSocket = await ConnectAsync(admin, org.Id);
        await using var memberSocket = await ConnectAsync(member, org.Id);

        await memberSocket.SendJsonAsync(new { type = "presence", status = "away" });

        foreach (var socket in new[] { adminSocket, memberSocket })
        {
            var received = await socket.ReceiveJsonAsync("presence");
            Assert.Equal(member.Id, received.GetProperty("user").GetProperty("id").GetGuid());
            Assert.Equal(member.UserName, received.GetProperty("user").GetProperty("username").GetString());
            Assert.Equal("away", received.GetProperty("status").GetString());
        }
    }

    [Fact]
    public async Task APresenceMessageIsSentAsTheTypedMessageAndNotStored()
    {
        var (org, _, member) = await CreateOrganizationAsync();
        await using var socket = await ConnectAsync(member, org.Id);

        await socket.SendJsonAsync(new { type = "presence", status = "online" });
        var received = await socket.ReceiveJsonAsync("presence");

        Assert.Equal(["type", "user", "status"], received.EnumerateObject().Select(p => p.Name));
        Assert.False(received.TryGetProperty("id", out _));
    }

    [Fact]
    public async Task NonMembersCannotJoinThePresenceStream()
    {
        var (org, _, _) = await CreateOrganizationAsync();
        var outsider = await _app.CreateSignedInUserAsync();

        await using var socket = await _app.ConnectAsync(PresenceConsumer.PathFor(org.Id), outsider.Token);

        Assert.Equal(403, (await socket.ReceiveJsonAsync("auth")).GetProperty("status").GetInt32());
        Assert.Equal(CloseCodes.Forbidden, (await socket.ReceiveCloseAsync()).Code);
    }

    [Fact]
    public async Task RemovingTheMemberOverTheApiClosesTheirPresenceSocketWith4003Promptly()
    {
        var (org, admin, member) = await CreateOrganizationAsync();
        await using var adminSocket = await ConnectAsync(admin, org.Id);
        await using var memberSocket = await ConnectAsync(member, org.Id);

        using var response = await _app.CreateClient(admin.Token).DeleteAsync($"/api/orgs/{org.Id}/members/{member.Id}");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal((4003, "membership removed"), await memberSocket.ReceiveCloseAsync().WaitAsync(Promptly));
        await adminSocket.SendJsonAsync(new { type = "presence", status = "online" });
        Assert.Equal("online", (await adminSocket.ReceiveJsonAsync("presence")).GetProperty("status").GetString());
    }

    public void Dispose() => _app.Dispose();

    private async Task<TestSocket> ConnectAsync(TestUser user, Guid organizationId)
    {
        var socket = await _app.ConnectAsync(PresenceConsumer.PathFor(organizationId), user.Token);
        await socket.ReceiveJsonAsync("welcome");
        // Nothing is stored, so a message published before the socket is on the stream is never seen; the
        // server reads client messages only once the consumer has joined, so a pong means it is on it.
        await socket.SendJsonAsync(new { type = "ping" });
        await socket.ReceiveJsonAsync("pong");
        return socket;
    }

    private async Task<(Organization Org, TestUser Admin, TestUser Member)> CreateOrganizationAsync()
    {
        var admin = await _app.CreateSignedInUserAsync();
        var member = await _app.CreateSignedInUserAsync();
        var org = await _app.CreateOrganizationAsync(
            "presence-" + Guid.NewGuid().ToString("N")[..8], (admin.UserName, OrganizationRole.Admin), (member.UserName, OrganizationRole.Member));
        return (org, admin, member);
    }

}

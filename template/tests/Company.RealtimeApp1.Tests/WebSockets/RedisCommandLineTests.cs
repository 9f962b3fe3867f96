using Company.RealtimeApp1.Organizations;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// An administrative command is a process of its own; with Redis configured, what it withdraws closes the
/// sockets on every instance at once, not at their next periodic re-check (which these tests put an hour away).
/// </summary>
public sealed class RedisCommandLineTests
{
    private static readonly Dictionary<string, string?> RecheckAnHourAway = new() { ["WebSockets:RecheckInterval"] = "01:00:00" };

    [Fact]
    public async Task UsersDisableClosesTheUsersSocketsOnEveryInstanceWith4001()
    {
        await using var cluster = await RealtimeCluster.StartAsync(RecheckAnHourAway);
        var user = await cluster.A.CreateSignedInUserAsync();
        await using var onA = await cluster.A.ConnectAsync(EchoConsumer.Path, user.Token);
        await using var onB = await cluster.B.ConnectAsync(EchoConsumer.Path, user.Token);
        await onA.ReceiveJsonAsync("welcome");
        await onB.ReceiveJsonAsync("welcome");

        var result = await RunAsync(cluster, "users", "disable", user.UserName);

        Assert.Equal((0, $"Disabled '{user.UserName}'.", ""), result);
        Assert.Equal((4001, "credentials changed"), await onA.ReceiveCloseAsync());
        Assert.Equal((4001, "credentials changed"), await onB.ReceiveCloseAsync());
    }

    [Fact]
    public async Task OrgsRemoveMemberClosesTheMembersOrganizationSocketsOnEveryInstanceWith4003()
    {
        await using var cluster = await RealtimeCluster.StartAsync(RecheckAnHourAway);
        var member = await cluster.A.CreateSignedInUserAsync();
        var slug = "cli-" + Guid.NewGuid().ToString("N")[..8];
        var org = await cluster.A.CreateOrganizationAsync(slug, (member.UserName, OrganizationRole.Member));
        await using var events = await cluster.B.ConnectAsync(PresenceConsumer.PathFor(org.Id), member.Token);
        await using var userSocket = await cluster.B.ConnectAsync(EchoConsumer.Path, member.Token);
        await events.ReceiveJsonAsync("welcome");
        await userSocket.ReceiveJsonAsync("welcome");

        var result = await RunAsync(cluster, "orgs", "remove-member", slug, member.UserName);

        Assert.Equal((0, $"Removed '{member.UserName}' from '{slug}'.", ""), result);
        Assert.Equal((4003, "membership removed"), await events.ReceiveCloseAsync());
        await userSocket.SendJsonAsync(new { type = "ping" });
        await userSocket.ReceiveJsonAsync("pong");
    }

    /// <summary>A command against the cluster's database and its Redis.</summary>
    private static Task<(int ExitCode, string Output, string Error)> RunAsync(RealtimeCluster cluster, params string[] args) =>
        AppProcess.RunAsync(
            cluster.DatabaseConnectionString, "", new Dictionary<string, string> { ["ConnectionStrings__Redis"] = cluster.Redis.ConnectionString }, args);
}

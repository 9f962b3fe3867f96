using System.Text.Json;
using WsAuth.Bench.Infrastructure;
using WsAuth.Bench.Load;

namespace WsAuth.Bench.Servers;

/// <summary>
/// ASP.NET Core SignalR, set up as its docs teach: JWT bearer with the token on the query string for the
/// hub, <c>Clients.User</c> for notifications, <c>Groups</c> for organizations. It validates the tokens the
/// subject issued (same key, issuer and audience) and learns the memberships from a file the runner writes.
/// </summary>
internal sealed class SignalRServer(BenchPaths paths) : ServerUnderTest(paths)
{
    public override string Name => "signalr";

    public override string Description => "ASP.NET Core SignalR, JSON hub protocol over WebSockets (bench/Peers/SignalRPeer)";

    public override string ProjectFile => Path.Combine(Paths.Bench, "Peers", "SignalRPeer", "SignalRPeer.csproj");

    public override bool HasBackplane => true;

    public override Task<ServerSession> StartAsync(World? world, BenchProfile profile, int? core, CancellationToken cancellationToken) =>
        StartAsync(world, profile, core, null, null, cancellationToken);

    /// <summary>With <c>ConnectionStrings__Redis</c>, the peer adds <c>AddStackExchangeRedis</c> (its Program.cs).</summary>
    public override Task<ServerSession> StartClusterMemberAsync(
        World world, BenchProfile profile, int? core, string instance, string redis, CancellationToken cancellationToken) =>
        StartAsync(world, profile, core, instance, redis, cancellationToken);

    private async Task<ServerSession> StartAsync(World? world, BenchProfile profile, int? core, string? instance, string? redis, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(world);
        var members = Path.Combine(Paths.Temp, "memberships.json");
        await File.WriteAllTextAsync(members, JsonSerializer.Serialize(world.Orgs.ToDictionary(
            org => org.IdText, org => org.Members.Select(member => member.IdText).ToArray())), cancellationToken);

        Settings.Clear();
        Settings["ASPNETCORE_ENVIRONMENT"] = "Development";
        Settings["Jwt__Issuer"] = world.Issuer;
        Settings["Jwt__Audience"] = world.Audience;
        Settings["Bench__MembershipFile"] = members;
        if (redis is not null)
        {
            Settings["ConnectionStrings__Redis"] = redis;
        }

        var environment = new Dictionary<string, string>(Settings) { ["Jwt__SigningKey"] = world.SigningKey };
        Settings["Jwt__SigningKey"] = "(the subject's development key)";
        // The record's settings are those of the one-instance run; the cluster's are in its scenario's notes.
        Settings.Remove("ConnectionStrings__Redis");

        return await StartSessionAsync(
            Path.GetDirectoryName(ProjectFile)!, environment, new SignalRProtocol(), world, profile, core, TimeSpan.FromMinutes(1), cancellationToken, instance);
    }
}

/// <summary>Raw Kestrel WebSockets with no authentication, no JSON and pre-serialised fan-out: the floor.</summary>
internal sealed class BareServer(BenchPaths paths) : ServerUnderTest(paths)
{
    public override string Name => "bare";

    public override string Description => "raw Kestrel WebSockets, no auth, no JSON, pre-serialised fan-out (bench/Peers/BarePeer)";

    public override string ProjectFile => Path.Combine(Paths.Bench, "Peers", "BarePeer", "BarePeer.csproj");

    public override async Task<ServerSession> StartAsync(World? world, BenchProfile profile, int? core, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(world);
        Settings.Clear();
        Settings["ASPNETCORE_ENVIRONMENT"] = "Development";
        return await StartSessionAsync(
            Path.GetDirectoryName(ProjectFile)!, Settings, new BareProtocol(), world, profile, core, TimeSpan.FromMinutes(1), cancellationToken);
    }
}

using WsAuth.Bench.Load;
using WsAuth.Bench.Reporting;
using WsAuth.Bench.Servers;

namespace WsAuth.Bench.Scenarios;

/// <summary>
/// Authenticated connects per second until the connection is usable: the upgrade with its credential, and
/// then the subject's <c>welcome</c> or SignalR's handshake reply <c>{}</c> (the bare peer sends a welcome
/// too). A fixed number of connects, a fixed number in flight, the time until the last is ready. The runner's
/// warm-up has already taken the same path.
/// </summary>
internal static class HandshakeScenario
{
    public const string Name = "handshake";

    /// <summary>The same on organization streams (the <c>joins</c> scenario): each connect joins its org, and its presence.</summary>
    public const string OrgName = "org-handshake";

    public static async Task<ScenarioResult> RunAsync(ServerSession session, CancellationToken cancellationToken, bool orgStreams = false)
    {
        var profile = session.Profile;
        var users = session.World.Users;
        var result = new ScenarioResult { Scenario = orgStreams ? OrgName : Name, Server = session.Name };
        var targets = orgStreams ? (Func<IReadOnlyList<BenchUser>, int, int, List<SocketTarget>>)OrgTargets : Targets;

        for (var run = 0; run < profile.HandshakeRuns; run++)
        {
            await session.WaitForQuietAsync(cancellationToken);
            var serverCpu = new Infrastructure.CpuMeter(session.Server.Pid);
            var generatorCpu = new Infrastructure.CpuMeter(Environment.ProcessId);
            using var set = await SocketSet.OpenAsync(session, targets(users, profile.HandshakeSockets, run * profile.HandshakeSockets), cancellationToken);
            var figures = new Dictionary<string, double>
            {
                ["connects_per_s"] = Math.Round(set.Sockets.Count / set.Elapsed.TotalSeconds, 1),
                ["failures"] = set.Failures,
                ["server_cpu"] = serverCpu.Read(),
                ["generator_cpu"] = generatorCpu.Read(),
            };
            result.Runs.Add(figures);
            if (set.Failures > 0)
            {
                result.Notes.Add($"run {run + 1}: {set.Failures} connects failed ({set.FirstError})");
            }

            Progress.Write($"  {session.Name,-8} {result.Scenario} run {run + 1}: {figures["connects_per_s"]:0} connects/s " +
                $"(server CPU {figures["server_cpu"]:P0}, generator {figures["generator_cpu"]:P0})");
            await set.CloseAsync();
        }

        result.Figures["connects_per_s"] = Statistics.Median(result.Runs.Select(run => run["connects_per_s"]));
        result.Figures["server_cpu"] = Statistics.Median(result.Runs.Select(run => run["server_cpu"]));
        result.Figures["generator_cpu"] = Statistics.Median(result.Runs.Select(run => run["generator_cpu"]));
        return result;
    }

    /// <summary><paramref name="count"/> sockets on the user's own stream, one user after another.</summary>
    public static List<SocketTarget> Targets(IReadOnlyList<BenchUser> users, int count, int offset) =>
        [.. Enumerable.Range(0, count).Select(i => new SocketTarget(Endpoint.Notifications, users[(offset + i) % users.Count]))];

    /// <summary>
    /// <paramref name="count"/> sockets on organization streams, one user after another, each on its own organization's
    /// stream: with the users of a run all different, every connect is that user's first on the stream (a presence join).
    /// </summary>
    public static List<SocketTarget> OrgTargets(IReadOnlyList<BenchUser> users, int count, int offset) =>
        [.. Enumerable.Range(0, count).Select(i => users[(offset + i) % users.Count]).Select(user => new SocketTarget(Endpoint.Organization, user, user.Org))];
}

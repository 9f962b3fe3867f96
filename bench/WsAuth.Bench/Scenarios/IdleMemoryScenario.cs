using WsAuth.Bench.Infrastructure;
using WsAuth.Bench.Load;
using WsAuth.Bench.Reporting;
using WsAuth.Bench.Servers;

namespace WsAuth.Bench.Scenarios;

/// <summary>
/// Server memory per idle authenticated socket: the server's resident set (and its private, anonymous
/// part) with N sockets open minus the same before the first run opened any, divided by N; each reading
/// follows an induced full GC, so it holds what is alive rather than garbage awaiting a collection. The
/// sockets open in two halves, and the first run also records the growth over the second half alone: the
/// marginal cost of one more socket, free of what the first connections set up once (database connections
/// and their page caches, the transport's buffer pool). Later runs cannot: memory freed by the previous run
/// is reused and returned to the system at the runtime's own pace.
/// </summary>
internal static class IdleMemoryScenario
{
    public const string Name = "idle-memory";

    /// <summary>The same on organization streams (the <c>joins</c> scenario): what a socket costs with its org's presence.</summary>
    public const string OrgName = "org-idle-memory";

    private static readonly TimeSpan Settle = TimeSpan.FromMilliseconds(500);

    public static async Task<ScenarioResult> RunAsync(ServerSession session, int sockets, CancellationToken cancellationToken, bool orgStreams = false)
    {
        var profile = session.Profile;
        var users = session.World.Users;
        var result = new ScenarioResult { Scenario = orgStreams ? OrgName : Name, Server = session.Name };
        var targets = orgStreams ? (Func<IReadOnlyList<BenchUser>, int, int, List<SocketTarget>>)HandshakeScenario.OrgTargets : HandshakeScenario.Targets;
        var half = sockets / 2;

        var baseline = await ReadAfterGcAsync(cancellationToken);
        for (var run = 0; run < profile.IdleRuns; run++)
        {
            using var first = await SocketSet.OpenAsync(session, targets(users, half, 0), cancellationToken);
            var middle = await ReadAfterGcAsync(cancellationToken);
            using var second = await SocketSet.OpenAsync(session, targets(users, sockets - half, half), cancellationToken);
            var loaded = await ReadAfterGcAsync(cancellationToken);
            var added = second.OpenCount;
            var open = first.OpenCount + added;
            var figures = new Dictionary<string, double>
            {
                ["sockets"] = open,
                ["kib_per_socket"] = Math.Round((loaded.RssBytes - baseline.RssBytes) / 1024.0 / open, 2),
                ["kib_per_socket_private"] = Math.Round((loaded.RssAnonBytes - baseline.RssAnonBytes) / 1024.0 / open, 2),
                ["kib_per_socket_marginal"] = Math.Round((loaded.RssBytes - middle.RssBytes) / 1024.0 / added, 2),
                ["baseline_mib"] = Math.Round(baseline.RssBytes / 1048576.0, 1),
                ["half_mib"] = Math.Round(middle.RssBytes / 1048576.0, 1),
                ["loaded_mib"] = Math.Round(loaded.RssBytes / 1048576.0, 1),
                ["threads"] = loaded.Threads,
                ["failures"] = first.Failures + second.Failures,
            };
            result.Runs.Add(figures);
            if (first.Failures + second.Failures > 0)
            {
                result.Notes.Add($"run {run + 1}: {first.Failures + second.Failures} of {sockets} sockets failed to open ({first.FirstError ?? second.FirstError})");
            }

            Progress.Write($"  {session.Name,-8} {result.Scenario} run {run + 1}: RSS {figures["baseline_mib"]:0.0} → {figures["half_mib"]:0.0} ({open - added} sockets) " +
                $"→ {figures["loaded_mib"]:0.0} MiB ({open}): {figures["kib_per_socket"]:0.0} KiB per socket ({figures["kib_per_socket_private"]:0.0} private)" +
                (run == 0 ? $", {figures["kib_per_socket_marginal"]:0.0} per socket of the second half" : ""));
            await second.CloseAsync();
            await first.CloseAsync();
        }

        foreach (var figure in new[] { "kib_per_socket", "kib_per_socket_private", "sockets" })
        {
            result.Figures[figure] = Statistics.Median(result.Runs.Select(run => run[figure]));
        }

        result.Figures["kib_per_socket_marginal"] = result.Runs[0]["kib_per_socket_marginal"];

        result.Figures["baseline_mib"] = Math.Round(baseline.RssBytes / 1048576.0, 1);
        return result;

        async Task<MemorySample> ReadAfterGcAsync(CancellationToken token)
        {
            await session.WaitForQuietAsync(token);
            if (!await InducedGc.CollectAsync(session.Server.Pid, token))
            {
                result.Notes.Add("could not induce a GC through the diagnostics port; memory read without one");
            }

            await Task.Delay(Settle, token);
            await session.WaitForQuietAsync(token);
            return ProcessStats.ReadMemory(session.Server.Pid);
        }
    }
}

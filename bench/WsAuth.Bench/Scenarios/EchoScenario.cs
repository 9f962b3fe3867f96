using System.Diagnostics;
using WsAuth.Bench.Infrastructure;
using WsAuth.Bench.Load;
using WsAuth.Bench.Reporting;
using WsAuth.Bench.Servers;

namespace WsAuth.Bench.Scenarios;

/// <summary>
/// Round trips over many sockets: pings (the subject's <c>ping</c>, a SignalR hub method that returns its
/// argument, anything for the bare peer's echo) sent open-loop to the sockets in turn, each socket every
/// 1/<see cref="PerSocketPerSecond"/> s, at most one in flight per socket (a socket still waiting skips its
/// turn). The rate stays under the subject's limit of 20 messages a second per socket, which closes a
/// faster client with 4029 and which the benchmark does not change; so the offered load is sockets × 18
/// a second, a server that keeps up shows that rate, and the latency tells the servers apart.
/// </summary>
internal static class EchoScenario
{
    public const string Name = "echo";

    private const double PerSocketPerSecond = 18;

    /// <summary>Ping ids never repeat within a run of the generator, so a late answer never matches a new ping.</summary>
    private static long _lastId;

    public static async Task<ScenarioResult> RunAsync(ServerSession session, SocketSet set, CancellationToken cancellationToken)
    {
        var profile = session.Profile;
        var result = new ScenarioResult { Scenario = Name, Server = session.Name };
        FanOutScenario.NoteOpenFailures(result, set);
        var protocol = session.Protocol;
        var recorder = new LatencyRecorder(4_000_000);
        var completed = 0;
        set.SetHandler((socket, record) =>
        {
            if (protocol.TryReadPong(record, out var id) && id == Volatile.Read(ref socket.PendingId))
            {
                recorder.Record(Stopwatch.GetTimestamp() - socket.PendingSentAt);
                Interlocked.Increment(ref completed);
                Volatile.Write(ref socket.PendingId, 0);
            }
        });

        // At least a second of warm-up: the first pings of a fresh connection set still meet cold code.
        await RunAsync(set, protocol, profile.WarmUp > TimeSpan.FromSeconds(1) ? profile.WarmUp : TimeSpan.FromSeconds(1), cancellationToken);
        for (var run = 0; run < profile.EchoRuns; run++)
        {
            await session.WaitForQuietAsync(cancellationToken);
            recorder.Reset();
            Volatile.Write(ref completed, 0);
            var serverCpu = new CpuMeter(session.Server.Pid);
            var generatorCpu = new CpuMeter(Environment.ProcessId);
            var skipped = await RunAsync(set, protocol, profile.EchoDuration, cancellationToken);
            var latency = recorder.Summarize();
            var figures = new Dictionary<string, double>
            {
                ["round_trips_per_s"] = Math.Round(Volatile.Read(ref completed) / profile.EchoDuration.TotalSeconds, 1),
                ["p50_ms"] = latency.P50,
                ["p99_ms"] = latency.P99,
                ["max_ms"] = latency.Max,
                ["skipped"] = skipped,
                ["server_cpu"] = serverCpu.Read(),
                ["generator_cpu"] = generatorCpu.Read(),
            };
            result.Runs.Add(figures);
            Progress.Write($"  {session.Name,-8} echo run {run + 1}: {figures["round_trips_per_s"]:0} round trips/s, p50 {latency.P50:0.00} ms, " +
                $"p99 {latency.P99:0.00} ms, {skipped} turns skipped (server CPU {figures["server_cpu"]:P0}, generator {figures["generator_cpu"]:P0})");
        }

        foreach (var figure in result.Runs[0].Keys)
        {
            result.Figures[figure] = Statistics.Median(result.Runs.Select(run => run[figure]));
        }

        result.Figures["offered_per_s"] = Math.Round(set.Sockets.Count * PerSocketPerSecond, 1);
        result.Figures["sockets"] = set.Sockets.Count;
        FanOutScenario.NoteServerCloses(result, set);
        return result;
    }

    /// <summary>One measurement: pings for <paramref name="duration"/>; returns how many turns were skipped (the previous ping unanswered).</summary>
    private static async Task<int> RunAsync(SocketSet set, WireProtocol protocol, TimeSpan duration, CancellationToken cancellationToken)
    {
        var sockets = set.Sockets;
        var rate = sockets.Count * PerSocketPerSecond;
        var skipped = 0;
        await Pacer.RunAsync(
            (int)(rate * duration.TotalSeconds),
            rate,
            async index =>
            {
                var socket = sockets[index % sockets.Count];
                if (Volatile.Read(ref socket.PendingId) != 0)
                {
                    Interlocked.Increment(ref skipped);
                    return true;
                }

                var id = Interlocked.Increment(ref _lastId);
                socket.PendingSentAt = Stopwatch.GetTimestamp();
                Volatile.Write(ref socket.PendingId, id);
                return await socket.SendAsync(protocol.Ping(id), cancellationToken);
            },
            maxInFlight: 1024,
            issueFor: duration,
            timeout: duration + TimeSpan.FromSeconds(10),
            cancellationToken);

        // Whatever is still unanswered is forgotten, so the next run starts clean.
        await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
        foreach (var socket in sockets)
        {
            Volatile.Write(ref socket.PendingId, 0);
        }

        return skipped;
    }
}

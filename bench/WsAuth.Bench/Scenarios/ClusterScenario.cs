using System.Diagnostics;
using WsAuth.Bench.Infrastructure;
using WsAuth.Bench.Load;
using WsAuth.Bench.Reporting;
using WsAuth.Bench.Servers;

namespace WsAuth.Bench.Scenarios;

/// <summary>
/// Two instances of a server behind one <c>redis-server</c>, all three on the server's core: the fan-out
/// scenario's sockets spread over both instances (alternately), every event published on a socket of the
/// first instance, so each event crosses Redis to reach the second instance's half. The subject uses its
/// built-in backplane (<c>ConnectionStrings__Redis</c>), the SignalR peer <c>AddStackExchangeRedis</c>;
/// the bare peer has no backplane and is left out. CPU figures are both instances and Redis together.
/// </summary>
internal static class ClusterScenario
{
    public const string Name = "cluster";

    public static async Task<ScenarioResult?> RunAsync(
        ServerUnderTest server, World world, BenchProfile profile, int? core, BenchPaths paths, CancellationToken cancellationToken)
    {
        if (!server.HasBackplane)
        {
            Progress.Write($"{server.Name}: no backplane, not in the cluster scenario");
            return null;
        }

        var result = new ScenarioResult { Scenario = Name, Server = server.Name };
        Progress.Write($"{server.Name}: cluster: starting redis-server and two instances{(core is { } c ? $" on core {c}" : "")}");
        await using var redis = await RedisServer.StartAsync(paths, core, cancellationToken);
        await using var first = await server.StartClusterMemberAsync(world, profile, core, $"{server.Name}-a", redis.ConnectionString, cancellationToken);
        await using var second = await server.StartClusterMemberAsync(world, profile, core, $"{server.Name}-b", redis.ConnectionString, cancellationToken);
        first.Companions.AddRange([second.Server.Pid, redis.Pid]);
        result.Notes.Add($"two instances (ports {first.Server.Port}, {second.Server.Port}) and redis-server {redis.ConnectionString}, all on the server's core; " +
            "events published on the first instance; server CPU is the three processes together");

        // The JIT warm-up of both instances (connects), then each ladder's own group-send warm-up.
        var warmUp = profile.ServerWarmUp / 2;
        await BenchRunner.WarmUpAsync(first, warmUp, cancellationToken);
        await BenchRunner.WarmUpAsync(second, warmUp, cancellationToken);

        var targets = FanOutScenario.Targets(first);
        var onFirst = targets.Where((target, index) => target.Publisher || index % 2 == 0).ToList();
        var onSecond = targets.Where((target, index) => !target.Publisher && index % 2 == 1).ToList();
        using var setA = await SocketSet.OpenAsync(first, onFirst, cancellationToken);
        using var setB = await SocketSet.OpenAsync(second, onSecond, cancellationToken);
        // Joins that finish after the welcome, and the backplane's subscriptions, land.
        await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken);
        FanOutScenario.NoteOpenFailures(result, setA);
        FanOutScenario.NoteOpenFailures(result, setB);

        var orgs = world.Orgs;
        var recipients = new int[orgs.Count];
        foreach (var socket in setA.Sockets.Concat(setB.Sockets))
        {
            recipients[socket.Target.Org!.Index]++;
        }

        var publishers = orgs.Select(org => setA.Sockets.Where(socket => socket.Target.Org == org && socket.Target.Publisher).ToArray()).ToArray();
        var counter = new DeliveryCounter();
        setA.SetHandler(counter.OnRecord);
        setB.SetHandler(counter.OnRecord);
        long sequence = 0;
        await RateLadder.RunAsync(first, result, counter, profile.FanOutRates, profile.FanOutReferenceRate, async index =>
        {
            var org = orgs[index % orgs.Count];
            var publisher = publishers[org.Index][index / orgs.Count % publishers[org.Index].Length];
            var frame = first.Protocol.SocketPublish(publisher.Target, Stopwatch.GetTimestamp(), Interlocked.Increment(ref sequence));
            return await publisher.SendAsync(frame, cancellationToken) ? recipients[org.Index] : -1;
        }, cancellationToken);

        result.Figures["sockets"] = setA.Sockets.Count + setB.Sockets.Count;
        result.Figures["sockets_first_instance"] = setA.Sockets.Count;
        result.Figures["sockets_second_instance"] = setB.Sockets.Count;
        result.Figures["recipients_per_event"] = Math.Round((setA.Sockets.Count + setB.Sockets.Count) / (double)orgs.Count, 1);
        FanOutScenario.NoteServerCloses(result, setA);
        FanOutScenario.NoteServerCloses(result, setB);
        await setA.CloseAsync();
        await setB.CloseAsync();
        return result;
    }
}

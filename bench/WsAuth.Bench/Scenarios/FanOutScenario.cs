using System.Diagnostics;
using WsAuth.Bench.Load;
using WsAuth.Bench.Reporting;
using WsAuth.Bench.Servers;

namespace WsAuth.Bench.Scenarios;

/// <summary>How events are published in the fan-out scenario.</summary>
internal enum PublishPath
{
    /// <summary>By a member over its own socket: the subject's <c>publish</c> message, a SignalR hub method, the bare peer's publisher socket.</summary>
    Socket,

    /// <summary>By HTTP: the subject's <c>POST /api/orgs/{orgId}/events</c>, the peers' <c>POST /publish/org/{orgId}</c>.</summary>
    Http,
}

/// <summary>
/// Organization fan-out: sockets spread evenly over the organizations, events published to the
/// organizations in turn at rising rates; every member socket of the organization should receive each.
/// Both publish paths run over the same sockets.
/// </summary>
internal static class FanOutScenario
{
    /// <summary>Publishes per publisher socket per second: under the subject's 20 messages a second per socket.</summary>
    private const double PublishesPerSocketPerSecond = 15;

    public static string NameFor(PublishPath path) => path == PublishPath.Socket ? "fanout-socket" : "fanout-http";

    /// <summary>
    /// <c>FanOutSockets / organizations</c> sockets per organization, over its members in turn; the first few
    /// of each are publishers, enough to reach the highest rate at 15 publishes a second each.
    /// </summary>
    public static List<SocketTarget> Targets(ServerSession session)
    {
        var profile = session.Profile;
        var orgs = session.World.Orgs;
        var perOrg = profile.FanOutSockets / orgs.Count;
        var publishersPerOrg = (int)Math.Ceiling(profile.FanOutRates.Max() / (double)orgs.Count / PublishesPerSocketPerSecond);
        return [.. orgs.SelectMany(org => Enumerable.Range(0, perOrg).Select(k =>
            new SocketTarget(Endpoint.Organization, org.Members[k % org.Members.Count], org, Publisher: k < publishersPerOrg)))];
    }

    public static async Task<ScenarioResult> RunAsync(ServerSession session, SocketSet set, PublishPath path, CancellationToken cancellationToken)
    {
        var profile = session.Profile;
        var orgs = session.World.Orgs;
        var result = new ScenarioResult { Scenario = NameFor(path), Server = session.Name };
        NoteOpenFailures(result, set);

        var recipients = new int[orgs.Count];
        foreach (var socket in set.Sockets)
        {
            recipients[socket.Target.Org!.Index]++;
        }

        var publishers = orgs.Select(org => set.Sockets.Where(socket => socket.Target.Org == org && socket.Target.Publisher).ToArray()).ToArray();
        var counter = new DeliveryCounter();
        set.SetHandler(counter.OnRecord);
        long sequence = 0;

        Func<int, Task<int>> publish = path == PublishPath.Socket
            ? async index =>
            {
                var org = orgs[index % orgs.Count];
                var publisher = publishers[org.Index][index / orgs.Count % publishers[org.Index].Length];
                var frame = session.Protocol.SocketPublish(publisher.Target, Stopwatch.GetTimestamp(), Interlocked.Increment(ref sequence));
                return await publisher.SendAsync(frame, cancellationToken) ? recipients[org.Index] : -1;
            }
            : async index =>
            {
                var org = orgs[index % orgs.Count];
                using var request = session.Protocol.HttpPublish(org, Stopwatch.GetTimestamp(), Interlocked.Increment(ref sequence));
                using var response = await session.Http.SendAsync(request, cancellationToken);
                return response.IsSuccessStatusCode ? recipients[org.Index] : -1;
            };

        await RateLadder.RunAsync(session, result, counter, profile.FanOutRates, profile.FanOutReferenceRate, publish, cancellationToken);
        result.Figures["sockets"] = set.Sockets.Count;
        result.Figures["recipients_per_event"] = Math.Round(set.Sockets.Count / (double)orgs.Count, 1);
        NoteServerCloses(result, set);
        return result;
    }

    public static void NoteOpenFailures(ScenarioResult result, SocketSet set)
    {
        if (set.Failures > 0)
        {
            result.Notes.Add($"{set.Failures} of {set.Failures + set.Sockets.Count} sockets failed to open ({set.FirstError})");
        }
    }

    public static void NoteServerCloses(ScenarioResult result, SocketSet set)
    {
        var closes = set.ServerCloses();
        if (closes.Count > 0)
        {
            result.Notes.Add("the server closed sockets: " + string.Join(", ", closes.Select(pair => $"{pair.Value}× {pair.Key}")));
        }
    }
}

using System.Diagnostics;
using WsAuth.Bench.Load;
using WsAuth.Bench.Reporting;
using WsAuth.Bench.Servers;

namespace WsAuth.Bench.Scenarios;

/// <summary>
/// Targeted sends: sockets on the users' own streams (every user has one or two), notifications sent over
/// HTTP to the users in turn at rising rates, each delivered to every socket of its user (the subject:
/// <c>POST /api/notifications</c> as an admin; SignalR: <c>Clients.User</c>; bare: the user's sockets).
/// </summary>
internal static class NotificationsScenario
{
    public const string Name = "notifications";

    public static async Task<ScenarioResult> RunAsync(ServerSession session, SocketSet set, CancellationToken cancellationToken)
    {
        var profile = session.Profile;
        var result = new ScenarioResult { Scenario = Name, Server = session.Name };
        FanOutScenario.NoteOpenFailures(result, set);
        var socketsOf = set.Sockets.GroupBy(socket => socket.Target.User).ToDictionary(group => group.Key, group => group.Count());
        var recipients = socketsOf.Keys.ToArray();
        var counter = new DeliveryCounter();
        set.SetHandler(counter.OnRecord);
        long sequence = 0;

        await RateLadder.RunAsync(session, result, counter, profile.NotificationRates, profile.NotificationReferenceRate, async index =>
        {
            var recipient = recipients[index % recipients.Length];
            using var request = session.Protocol.Notify(recipient, session.World, Stopwatch.GetTimestamp(), Interlocked.Increment(ref sequence));
            using var response = await session.Http.SendAsync(request, cancellationToken);
            return response.IsSuccessStatusCode ? socketsOf[recipient] : -1;
        }, cancellationToken);

        result.Figures["sockets"] = set.Sockets.Count;
        result.Figures["users"] = recipients.Length;
        FanOutScenario.NoteServerCloses(result, set);
        return result;
    }
}

using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// Every <c>WebSockets:RecheckInterval</c>, over a bus that may lose messages: compares each stored stream's head with
/// what this instance's sockets on it delivered, and has those behind catch up from the store. A gap is otherwise seen
/// only when a later message arrives; this finds one at the end of a quiet stream (a publish lost to a network split
/// between one instance and Redis, or by an instance that died before it could publish again). One query per few
/// hundred streams, not one per socket.
/// </summary>
internal sealed partial class StreamHeadCheck(
    StreamHub hub, IMessageBus bus, IOptions<RealtimeOptions> options, TimeProvider time, ILogger<StreamHeadCheck> logger) : BackgroundService
{
    private const int BatchSize = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!bus.MayLoseMessages)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.RecheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await CheckAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The application is stopping.
        }
    }

    /// <summary>Has every socket behind its stream's head catch up; returns how many did.</summary>
    internal async Task<int> CheckAsync(CancellationToken cancellationToken)
    {
        var behind = 0;
        var byHistory = hub.Memberships.Where(m => m.IsStored && !m.Connection.Closing.IsCancellationRequested).GroupBy(m => m.History);
        foreach (var memberships in byHistory)
        {
            foreach (var batch in memberships.GroupBy(m => m.Stream).Chunk(BatchSize))
            {
                try
                {
                    var heads = await memberships.Key.HeadsAsync([.. batch.Select(stream => stream.Key)], cancellationToken);
                    foreach (var stream in batch)
                    {
                        foreach (var membership in stream)
                        {
                            if (membership.Delivered is var delivered and >= 0 && delivered < heads.GetValueOrDefault(stream.Key))
                            {
                                membership.CatchUp();
                                behind++;
                            }
                        }
                    }
                }
                catch (Exception exception) when (exception is not OperationCanceledException)
                {
                    // The database may be down for a moment: the next round checks again.
                    Log.CheckFailed(logger, exception, batch.Length);
                }
            }
        }

        return behind;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Comparing {Count} streams' heads with what their sockets delivered failed; trying again at the next interval")]
        public static partial void CheckFailed(ILogger logger, Exception exception, int count);
    }
}

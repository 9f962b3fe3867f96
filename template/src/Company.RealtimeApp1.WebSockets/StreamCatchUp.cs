namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// Brings this instance's sockets up to date after the message bus lost messages for a while (an outage of
/// the server it shares with the other instances). When the bus is interrupted, every socket's membership
/// holds live messages back; when it is back, the connections are re-checked against the app (a revocation
/// made meanwhile never reached them), then each membership reads what was stored after the last id it had
/// and sends it, then the held-back live messages: in order, no gap, no duplicate. A socket whose gap cannot
/// be filled (the history was trimmed past it, or the store could not be read) is closed with 1012, so its
/// client reconnects with <c>since</c>.
/// </summary>
internal sealed partial class StreamCatchUp(StreamHub hub, ConnectionRecheck recheck, ILogger<StreamCatchUp> logger)
{
    /// <summary>The close reason of a socket whose gap could not be filled: what its client should do.</summary>
    public const string CloseReason = "messages were missed; reconnect with since";

    /// <summary>The bus may be losing messages from now on: every socket holds live ones back, those that join meanwhile too.</summary>
    public void Interrupt() => hub.Interrupt();

    /// <summary>Which interruption is the latest: a catch-up takes it before it checks the bus is back, and ends only that one.</summary>
    public long Epoch => hub.InterruptionEpoch;

    /// <summary>The bus delivers again since interruption <paramref name="epoch"/>: re-checks every connection, then fills every interrupted socket's gap.</summary>
    public async Task<CaughtUp> CatchUpAsync(long epoch, CancellationToken cancellationToken)
    {
        // From here the bus delivers again: a socket that joins now starts live, after the store's newest id.
        hub.EndInterruption(epoch);
        await recheck.RecheckAllAsync(cancellationToken);
        var caughtUp = 0;
        var closed = 0;
        foreach (var membership in hub.Memberships.ToArray())
        {
            if (membership.Connection.Closing.IsCancellationRequested)
            {
                continue;
            }

            bool filled;
            try
            {
                filled = await membership.CatchUpAsync(epoch, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                Log.ReadFailed(logger, exception, membership.Stream, membership.Connection.Id);
                filled = false;
            }

            if (filled)
            {
                caughtUp++;
            }
            else
            {
                closed++;
                membership.Connection.Close(CloseCodes.ServiceRestart, CloseReason);
            }
        }

        return new CaughtUp(caughtUp, closed);
    }

    /// <summary>How many socket memberships caught up, and how many sockets were closed with 1012 instead.</summary>
    public readonly record struct CaughtUp(int Memberships, int Closed);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Could not read what stream {Stream} missed for connection {ConnectionId}; closing it with 1012")]
        public static partial void ReadFailed(ILogger logger, Exception exception, string stream, string connectionId);
    }
}

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// Brings this instance's sockets up to date after the message bus lost messages for a while (an outage of
/// the server it shares with the other instances). When the bus is back, the connections are re-checked
/// against the app (a revocation made meanwhile never reached them), then every socket on a stored stream
/// reads what was stored after the last message it delivered, and sends it in order (<see cref="StreamMembership"/>):
/// a gap after an outage is filled like any other, and a socket whose gap cannot be filled is closed with 1012.
/// </summary>
internal sealed class StreamCatchUp(StreamHub hub, ConnectionRecheck recheck)
{
    /// <summary>The close reason of a socket whose gap could not be filled: what its client should do.</summary>
    public const string CloseReason = StreamMembership.CloseReason;

    /// <summary>The bus may be losing messages from now on: every socket holds stored ones back, those that join meanwhile too.</summary>
    public void Interrupt() => hub.Interrupt();

    /// <summary>Which outage is the latest: a catch-up takes it before it checks the bus is back, and ends only that one.</summary>
    public long Epoch => hub.InterruptionEpoch;

    /// <summary>
    /// The bus delivers again after outage <paramref name="epoch"/>: re-checks every connection (a revocation made meanwhile
    /// closes its sockets before they get anything more), then starts every stored membership's catch-up. Returns how many.
    /// </summary>
    public async Task<int> CatchUpAsync(long epoch, CancellationToken cancellationToken)
    {
        hub.EndInterruption(epoch);
        await recheck.RecheckAllAsync(cancellationToken);
        var catchingUp = 0;
        foreach (var membership in hub.Memberships.ToArray())
        {
            if (membership.IsStored && !membership.Connection.Closing.IsCancellationRequested)
            {
                membership.CatchUp(epoch);
                catchingUp++;
            }
        }

        return catchingUp;
    }
}

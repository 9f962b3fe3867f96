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

    /// <summary>The bus delivers again: re-checks every connection, then starts every stored membership's catch-up. Returns how many.</summary>
    public async Task<int> CatchUpAsync(CancellationToken cancellationToken)
    {
        await recheck.RecheckAllAsync(cancellationToken);
        var catchingUp = 0;
        foreach (var membership in hub.Memberships.ToArray())
        {
            if (membership.IsStored && !membership.Connection.Closing.IsCancellationRequested)
            {
                membership.CatchUp();
                catchingUp++;
            }
        }

        return catchingUp;
    }
}

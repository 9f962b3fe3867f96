using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>When, and so how freshly, the realtime layer asks whether connections may stay open.</summary>
public enum AuthorityRecheck
{
    /// <summary>
    /// A connection has just registered and joined a stream. A revocation reaches only connections already
    /// there, so one made during the handshake (after its checks, before the join) shows up here instead.
    /// Answers the app remembers will do, provided a revocation makes it forget them.
    /// </summary>
    Joined,

    /// <summary>The client presented a new access token (<c>auth.refresh</c>): what is current.</summary>
    Refreshed,

    /// <summary>
    /// Every open connection, every <c>WebSockets:RecheckInterval</c>, in batches: what is current, so that a
    /// change no revocation carried (a command run in another process, a hand-edited database, a bus
    /// outage) still closes the connections it should.
    /// </summary>
    Periodic,
}

/// <summary>A connection that lost what it relied on, and the close code and reason it gets.</summary>
public readonly record struct WithdrawnAuthority(RealtimeConnection Connection, int CloseCode, string Reason);

/// <summary>
/// Answers, for the app, whether open connections still hold the authority they were opened with: their
/// user (still there, enabled, the same credentials) and each stream they joined (a membership, say).
/// The realtime layer asks and the app answers, the way SignalR asks an <c>IUserIdProvider</c>. Register
/// any number; each answers for what it knows and ignores the rest.
/// </summary>
public interface IConnectionAuthority
{
    /// <summary>The connections among <paramref name="connections"/> that lost their authority; the others are left alone.</summary>
    ValueTask<IReadOnlyCollection<WithdrawnAuthority>> RecheckAsync(
        IReadOnlyList<RealtimeConnection> connections, AuthorityRecheck recheck, CancellationToken cancellationToken);
}

/// <summary>
/// Validates an access token a client presents on an open socket (<c>auth.refresh</c>) exactly as the
/// handshake's authentication validated the first one: the app answers, the realtime layer asks.
/// </summary>
public interface IConnectionTokenValidator
{
    /// <summary>The token's principal when it is valid and its user still allowed in; otherwise null.</summary>
    ValueTask<System.Security.Claims.ClaimsPrincipal?> ValidateAsync(string accessToken, CancellationToken cancellationToken);
}

/// <summary>Asks every <see cref="IConnectionAuthority"/> and closes the connections any of them withdraws.</summary>
internal sealed partial class ConnectionAuthorityChecks(IEnumerable<IConnectionAuthority> authorities, ILogger<ConnectionAuthorityChecks> logger)
{
    private readonly IConnectionAuthority[] _authorities = [.. authorities];

    /// <summary>True when every connection kept its authority.</summary>
    public async ValueTask<bool> RecheckAsync(IReadOnlyList<RealtimeConnection> connections, AuthorityRecheck recheck, CancellationToken cancellationToken)
    {
        var withdrawals = new Dictionary<RealtimeConnection, WithdrawnAuthority>();
        foreach (var authority in _authorities)
        {
            foreach (var withdrawn in await authority.RecheckAsync(connections, recheck, cancellationToken))
            {
                // One close per connection; losing the user (4001) says more than losing a stream (4003).
                if (!withdrawals.TryGetValue(withdrawn.Connection, out var known)
                    || (withdrawn.CloseCode == CloseCodes.Unauthorized && known.CloseCode != CloseCodes.Unauthorized))
                {
                    withdrawals[withdrawn.Connection] = withdrawn;
                }
            }
        }

        foreach (var (connection, closeCode, reason) in withdrawals.Values)
        {
            Log.Withdrawn(logger, connection.Id, connection.Identity.UserId, closeCode, reason, recheck);
            // What is still queued was sent for an authority the client no longer holds.
            connection.Close(closeCode, reason, discardQueued: true);
        }

        return withdrawals.Count == 0;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Closing connection {ConnectionId} of user {UserId} with {CloseCode}: {Reason} (found when {Recheck})")]
        public static partial void Withdrawn(ILogger logger, string connectionId, Guid userId, int closeCode, string reason, AuthorityRecheck recheck);
    }
}

/// <summary>Every <c>WebSockets:RecheckInterval</c>, re-checks every open connection, a batch at a time.</summary>
internal sealed partial class ConnectionRecheck(
    ConnectionRegistry registry,
    ConnectionAuthorityChecks checks,
    IOptions<RealtimeOptions> options,
    TimeProvider time,
    ILogger<ConnectionRecheck> logger) : BackgroundService
{
    /// <summary>Connections per question to the app: a few queries per batch, not one per socket.</summary>
    internal const int BatchSize = 500;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RecheckInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RecheckAllAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The application is stopping.
        }
    }

    internal async Task RecheckAllAsync(CancellationToken cancellationToken)
    {
        foreach (var batch in registry.All.Where(c => !c.Closing.IsCancellationRequested).Chunk(BatchSize))
        {
            try
            {
                await checks.RecheckAsync(batch, AuthorityRecheck.Periodic, cancellationToken);
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                // The database may be down for a moment: the sockets stay as they are until the next round.
                Log.RecheckFailed(logger, exception, batch.Length);
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Re-checking {Count} open connections failed; trying again at the next interval")]
        public static partial void RecheckFailed(ILogger logger, Exception exception, int count);
    }
}

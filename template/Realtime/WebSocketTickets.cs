using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Company.RealtimeApp1.Realtime;

/// <summary>
/// Holds the tickets of <c>POST /ws/ticket</c> until a WebSocket handshake redeems them. A browser
/// cannot set an Authorization header on a WebSocket, and a token in the URL lands in proxy and browser
/// history; a ticket in the URL is worthless once used and after a few seconds. One instance keeps them
/// in memory; several instances need a shared store (Redis) behind this interface.
/// </summary>
public interface IWebSocketTicketStore
{
    /// <summary>Issues a ticket that resolves, once, within <paramref name="lifetime"/>, to <paramref name="accessToken"/>.</summary>
    ValueTask<string> IssueAsync(string accessToken, TimeSpan lifetime, CancellationToken cancellationToken = default);

    /// <summary>
    /// Consumes <paramref name="ticket"/>: the access token it was issued for, or null when it is unknown,
    /// already used or expired. Of two concurrent redemptions of one ticket, only one succeeds.
    /// </summary>
    ValueTask<string?> RedeemAsync(string ticket, CancellationToken cancellationToken = default);
}

/// <summary>The ticket format every store shares: 256 random bits, base64url; stored only as a SHA-256 key.</summary>
public static class WebSocketTicket
{
    private const int RandomBytes = 32;

    /// <summary>The length of a ticket: 32 bytes in base64url without padding.</summary>
    public const int Length = 43;

    public static string Create() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(RandomBytes));

    /// <summary>What a store keeps instead of the ticket, so that reading the store yields no usable ticket.</summary>
    public static string Key(string ticket) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ticket)));

    /// <summary>False for anything that cannot be a ticket, which is then refused without a look-up.</summary>
    public static bool IsWellFormed(string ticket) => ticket.Length == Length && Base64Url.IsValid(ticket);
}

/// <summary>Tickets of this instance only: enough for one instance, or for sticky sessions.</summary>
internal sealed class InMemoryWebSocketTicketStore(TimeProvider time) : IWebSocketTicketStore
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(10);

    private readonly ConcurrentDictionary<string, IssuedTicket> _tickets = new(StringComparer.Ordinal);
    private long _nextSweepTicks;

    public ValueTask<string> IssueAsync(string accessToken, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(accessToken);
        var now = time.GetUtcNow();
        SweepExpired(now);

        var ticket = WebSocketTicket.Create();
        _tickets[WebSocketTicket.Key(ticket)] = new IssuedTicket(accessToken, now + lifetime);
        return ValueTask.FromResult(ticket);
    }

    public ValueTask<string?> RedeemAsync(string ticket, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ticket);

        // Removing is the atomic claim: of two concurrent redemptions, only one gets the entry.
        if (!WebSocketTicket.IsWellFormed(ticket)
            || !_tickets.TryRemove(WebSocketTicket.Key(ticket), out var issued)
            || issued.ExpiresAt <= time.GetUtcNow())
        {
            return ValueTask.FromResult<string?>(null);
        }

        return ValueTask.FromResult<string?>(issued.AccessToken);
    }

    /// <summary>Tickets that are never redeemed would otherwise stay forever; issuing sweeps them now and then.</summary>
    private void SweepExpired(DateTimeOffset now)
    {
        var due = Interlocked.Read(ref _nextSweepTicks);
        if (now.UtcTicks < due
            || Interlocked.CompareExchange(ref _nextSweepTicks, (now + SweepInterval).UtcTicks, due) != due)
        {
            return;
        }

        foreach (var entry in _tickets)
        {
            if (entry.Value.ExpiresAt <= now)
            {
                _tickets.TryRemove(entry);
            }
        }
    }

    private sealed record IssuedTicket(string AccessToken, DateTimeOffset ExpiresAt);
}

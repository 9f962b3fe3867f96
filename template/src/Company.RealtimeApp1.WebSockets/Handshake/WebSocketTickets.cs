using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// Holds the tickets of <c>POST /ws/ticket</c> until a WebSocket handshake redeems them. A browser
/// cannot set an Authorization header on a WebSocket, and a token in the URL lands in proxy and browser
/// history; a ticket in the URL is worthless once used and after a few seconds. One instance keeps them
/// in memory; several instances need a shared store (Redis) behind this interface.
/// </summary>
public interface IWebSocketTicketStore
{
    /// <summary>
    /// Issues a ticket that resolves, once, within <paramref name="lifetime"/>, to <paramref name="accessToken"/>,
    /// unless <paramref name="userId"/> already holds <paramref name="maxUnredeemed"/> tickets that are
    /// neither redeemed nor expired. The count and the issue are one atomic step (a shared store counts
    /// the user's tickets on every instance), so concurrent requests cannot overshoot the cap.
    /// </summary>
    /// <exception cref="TicketStoreUnavailableException">A shared store cannot be reached; try again later.</exception>
    ValueTask<TicketIssue> IssueAsync(
        Guid userId, string accessToken, TimeSpan lifetime, int maxUnredeemed, CancellationToken cancellationToken = default);

    /// <summary>
    /// Consumes <paramref name="ticket"/>: the access token it was issued for, or null when it is unknown,
    /// already used or expired. Of two concurrent redemptions of one ticket, only one succeeds. Either
    /// way the ticket no longer counts against its user's cap.
    /// </summary>
    /// <exception cref="TicketStoreUnavailableException">A shared store cannot be reached; try again later.</exception>
    ValueTask<string?> RedeemAsync(string ticket, CancellationToken cancellationToken = default);
}

/// <summary>
/// Thrown by a shared <see cref="IWebSocketTicketStore"/> that cannot be reached for now (Redis is down, or did
/// not answer in time): no ticket was issued, and one being redeemed may or may not be spent (a script that
/// timed out here can still run there). Its message never holds a ticket or a token.
/// </summary>
public sealed class TicketStoreUnavailableException(Exception? inner = null)
    : Exception("The ticket store cannot be reached.", inner)
{
    /// <summary>The <c>Retry-After</c> of every answer it causes (<c>POST /ws/ticket</c>, a refused handshake).</summary>
    public const string RetryAfterSeconds = "5";
}

/// <summary>What <see cref="IWebSocketTicketStore.IssueAsync"/> answers: a ticket, or when the user's oldest ticket frees a slot.</summary>
public readonly record struct TicketIssue(string? Ticket, TimeSpan RetryAfter)
{
    public static TicketIssue Issued(string ticket) => new(ticket, TimeSpan.Zero);

    public static TicketIssue Refused(TimeSpan retryAfter) => new(null, retryAfter);
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

/// <summary>
/// Tickets of this instance only: enough for one instance, or for sticky sessions. Memory stays bounded:
/// at most the cap per user, and expired tickets are swept now and then.
/// </summary>
internal sealed class InMemoryWebSocketTicketStore(TimeProvider time) : IWebSocketTicketStore
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(10);

    // One lock for both maps: issuing and redeeming are rare next to messages, and the cap must be
    // checked and taken in one step.
    private readonly Lock _lock = new();
    private readonly Dictionary<string, IssuedTicket> _tickets = new(StringComparer.Ordinal);
    private readonly Dictionary<Guid, List<IssuedTicket>> _byUser = [];
    private DateTimeOffset _nextSweep;

    public ValueTask<TicketIssue> IssueAsync(
        Guid userId, string accessToken, TimeSpan lifetime, int maxUnredeemed, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(accessToken);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxUnredeemed, 1);
        var now = time.GetUtcNow();
        lock (_lock)
        {
            SweepExpired(now);
            if (!_byUser.TryGetValue(userId, out var held))
            {
                held = [];
                _byUser[userId] = held;
            }
            else
            {
                foreach (var expired in held.Where(t => t.ExpiresAt <= now).ToList())
                {
                    Forget(expired);
                }
            }

            if (held.Count >= maxUnredeemed)
            {
                return ValueTask.FromResult(TicketIssue.Refused(held.Min(t => t.ExpiresAt) - now));
            }

            var ticket = WebSocketTicket.Create();
            var issued = new IssuedTicket(WebSocketTicket.Key(ticket), userId, accessToken, now + lifetime);
            _tickets[issued.Key] = issued;
            held.Add(issued);
            return ValueTask.FromResult(TicketIssue.Issued(ticket));
        }
    }

    public ValueTask<string?> RedeemAsync(string ticket, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        if (!WebSocketTicket.IsWellFormed(ticket))
        {
            return ValueTask.FromResult<string?>(null);
        }

        var key = WebSocketTicket.Key(ticket);
        lock (_lock)
        {
            // Removing is the claim: of two concurrent redemptions, only one finds the entry.
            if (!_tickets.TryGetValue(key, out var issued))
            {
                return ValueTask.FromResult<string?>(null);
            }

            Forget(issued);
            return ValueTask.FromResult(issued.ExpiresAt <= time.GetUtcNow() ? null : issued.AccessToken);
        }
    }

    private void Forget(IssuedTicket issued)
    {
        _tickets.Remove(issued.Key);
        if (_byUser.TryGetValue(issued.UserId, out var held))
        {
            held.Remove(issued);
            if (held.Count == 0)
            {
                _byUser.Remove(issued.UserId);
            }
        }
    }

    /// <summary>Tickets that are never redeemed would otherwise stay until their user asks again; issuing sweeps them now and then.</summary>
    private void SweepExpired(DateTimeOffset now)
    {
        if (now < _nextSweep)
        {
            return;
        }

        _nextSweep = now + SweepInterval;
        foreach (var expired in _tickets.Values.Where(t => t.ExpiresAt <= now).ToList())
        {
            Forget(expired);
        }
    }

    private sealed record IssuedTicket(string Key, Guid UserId, string AccessToken, DateTimeOffset ExpiresAt);
}

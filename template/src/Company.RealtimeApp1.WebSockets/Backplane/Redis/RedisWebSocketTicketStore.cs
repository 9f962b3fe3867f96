using StackExchange.Redis;

namespace Company.RealtimeApp1.WebSockets.Redis;

/// <summary>
/// Tickets every instance shares: a ticket issued on one opens a socket on any other, once. Redis keeps
/// each as a hash under its SHA-256 key (never the ticket itself) that expires with the ticket, and each
/// user's unredeemed tickets in a sorted set by expiry. Issuing (count, then take a slot) and redeeming
/// (claim, then free the slot) are each one Lua script, so they are atomic across instances; the time is
/// Redis's own, so instances whose clocks differ agree on what has expired.
/// </summary>
internal sealed class RedisWebSocketTicketStore(IConnectionMultiplexer redis) : IWebSocketTicketStore
{
    /// <summary>How long a request waits for Redis before it is told to try again: not the client library's 5 s.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    private const string TicketPrefix = "realtime:ticket:";
    private const string UserPrefix = "realtime:tickets-of:";
    private const long Issued = -1;

    // KEYS: the ticket, the user's tickets. ARGV: the access token, the lifetime (ms), the cap.
    // Answers -1 when issued, else the milliseconds until the user's oldest ticket expires.
    private const string IssueScript = """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
        if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then
          local oldest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
          return math.max(0, tonumber(oldest[2]) - now)
        end
        local lifetime = tonumber(ARGV[2])
        redis.call('HSET', KEYS[1], 'token', ARGV[1], 'user', KEYS[2])
        redis.call('PEXPIRE', KEYS[1], lifetime)
        redis.call('ZADD', KEYS[2], now + lifetime, KEYS[1])
        local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
        redis.call('PEXPIREAT', KEYS[2], tonumber(last[2]))
        return -1
        """;

    // KEYS: the ticket. Deleting is the claim: of two concurrent redemptions, only one finds the hash. An
    // expired ticket's hash is already gone. The user's set is named in the hash (one Redis, not a cluster).
    private const string RedeemScript = """
        local ticket = redis.call('HMGET', KEYS[1], 'token', 'user')
        if not ticket[1] then
          return false
        end
        redis.call('DEL', KEYS[1])
        redis.call('ZREM', ticket[2], KEYS[1])
        return ticket[1]
        """;

    public async ValueTask<TicketIssue> IssueAsync(
        Guid userId, string accessToken, TimeSpan lifetime, int maxUnredeemed, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(accessToken);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxUnredeemed, 1);
        var ticket = WebSocketTicket.Create();
        var answer = (long)await EvaluateAsync(
            IssueScript,
            [TicketPrefix + WebSocketTicket.Key(ticket), UserPrefix + userId.ToString("N")],
            [accessToken, (long)lifetime.TotalMilliseconds, maxUnredeemed],
            cancellationToken);
        return answer == Issued ? TicketIssue.Issued(ticket) : TicketIssue.Refused(TimeSpan.FromMilliseconds(answer));
    }

    public async ValueTask<string?> RedeemAsync(string ticket, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        if (!WebSocketTicket.IsWellFormed(ticket))
        {
            return null;
        }

        var token = await EvaluateAsync(RedeemScript, [TicketPrefix + WebSocketTicket.Key(ticket)], [], cancellationToken);
        return token.IsNull ? null : (string?)token;
    }

    private async Task<RedisResult> EvaluateAsync(string script, RedisKey[] keys, RedisValue[] values, CancellationToken cancellationToken)
    {
        // Refused at once while the multiplexer knows Redis is gone, rather than queued until it returns.
        if (!redis.IsConnected)
        {
            throw new TicketStoreUnavailableException();
        }

        try
        {
            return await redis.GetDatabase().ScriptEvaluateAsync(script, keys, values).WaitAsync(Timeout, cancellationToken);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            throw new TicketStoreUnavailableException(exception);
        }
    }
}

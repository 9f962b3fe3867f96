using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Company.RealtimeApp1.WebSockets.Redis;

/// <summary>
/// Connection leases every instance shares: each user's open connections are a sorted set of connection
/// ids scored by when their lease expires. Taking a lease (drop the expired, count, add if under the cap)
/// is one Lua script, so it is atomic across instances; the time is Redis's own, as for tickets.
/// While Redis cannot be reached a connection is admitted, under this instance's own cap only, and its
/// lease is written with every other as soon as Redis returns (<see cref="RedisOutageRecovery"/>, which
/// also puts back what a Redis that restarted empty lost): an outage of the backplane should not turn away
/// every socket, and the per-instance cap still bounds what one user can open meanwhile.
/// </summary>
internal sealed partial class RedisConnectionLeases(
    IConnectionMultiplexer redis, IOptions<ConnectionLeaseOptions> options, ILogger<RedisConnectionLeases> logger)
    : IConnectionLeases
{
    private const string UserPrefix = "realtime:connections-of:";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    // KEYS: the user's connections. ARGV: the connection id, the lease (ms), the cap. Answers 1 when taken, else 0.
    private const string AcquireScript = """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
        if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
          return 0
        end
        redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
        local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
        redis.call('PEXPIREAT', KEYS[1], tonumber(last[2]))
        return 1
        """;

    // KEYS: each connection's user's set. ARGV: the lease (ms), then each connection's id, in the order of KEYS.
    private const string RenewScript = """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local expiry = now + tonumber(ARGV[1])
        for i, key in ipairs(KEYS) do
          redis.call('ZADD', key, expiry, ARGV[i + 1])
          if redis.call('PTTL', key) < tonumber(ARGV[1]) then
            redis.call('PEXPIREAT', key, expiry)
          end
        end
        return #KEYS
        """;

    private int _unreachable;

    internal static RedisKey KeyFor(Guid userId) => UserPrefix + userId.ToString("N");

    public async ValueTask<bool> TryAcquireAsync(Guid userId, string connectionId, int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        if (!redis.IsConnected)
        {
            Unreachable(null);
            return true;
        }

        try
        {
            var taken = (long)await redis.GetDatabase()
                .ScriptEvaluateAsync(AcquireScript, [KeyFor(userId)], [connectionId, LeaseMilliseconds, max])
                .WaitAsync(Timeout);
            Reachable();
            return taken == 1;
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            Unreachable(exception);
            return true;
        }
    }

    public async ValueTask RenewAsync(IReadOnlyCollection<RealtimeConnection> connections)
    {
        if (connections.Count == 0)
        {
            return;
        }

        if (!redis.IsConnected)
        {
            Unreachable(null);
            return;
        }

        var keys = connections.Select(connection => KeyFor(connection.Identity.UserId)).ToArray();
        RedisValue[] values = [LeaseMilliseconds, .. connections.Select(connection => (RedisValue)connection.Id)];
        try
        {
            await redis.GetDatabase().ScriptEvaluateAsync(RenewScript, keys, values).WaitAsync(Timeout);
            Reachable();
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            Unreachable(exception);
        }
    }

    public async ValueTask ReleaseAsync(Guid userId, string connectionId)
    {
        // Not released while Redis is unreachable: the lease stops counting when it expires.
        if (!redis.IsConnected)
        {
            Unreachable(null);
            return;
        }

        try
        {
            await redis.GetDatabase().SortedSetRemoveAsync(KeyFor(userId), connectionId).WaitAsync(Timeout);
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            Unreachable(exception);
        }
        catch (ObjectDisposedException)
        {
            // A socket that outlived the app's connection to Redis, as the app stops: its lease expires.
        }
    }

    private long LeaseMilliseconds => (long)options.Value.Duration.TotalMilliseconds;

    private void Reachable() => Interlocked.Exchange(ref _unreachable, 0);

    /// <summary>Logged once per outage, not once per socket.</summary>
    private void Unreachable(Exception? exception)
    {
        if (Interlocked.Exchange(ref _unreachable, 1) == 0)
        {
            Log.Unreachable(logger, exception);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning,
            "Redis is unreachable: connections are admitted under this instance's own per-user cap until it answers again")]
        public static partial void Unreachable(ILogger logger, Exception? exception);
    }
}

using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using StackExchange.Redis;

namespace Company.RealtimeApp1.WebSockets.Redis;

/// <summary>
/// Rate limits every instance counts together: each partition's state is one Redis key, checked and counted by
/// one Lua script (one round trip, atomic across instances; the time is Redis's own, as for tickets and leases).
/// A key holds a hash of its partition, never the partition itself: a username is not left readable in Redis.
/// While Redis cannot be reached, each limiter counts on this instance alone (its framework fallback) rather than
/// fail the request: <c>/health</c> already says Redis is down, and one instance's limit still holds meanwhile.
/// </summary>
internal sealed partial class RedisRateLimitStore(IConnectionMultiplexer redis, ILogger<RedisRateLimitStore> logger) : IRateLimitStore
{
    private const string KeyPrefix = "realtime:rate-limit:";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    // KEYS: the count of the partition's current window, which expires with the window. ARGV: the permit limit,
    // the window (ms), the permits asked. Answers {1, 0} when taken, else {0, ms until the window ends}.
    private const string FixedWindowScript = """
        local count = tonumber(redis.call('GET', KEYS[1]) or '0')
        if count + tonumber(ARGV[3]) > tonumber(ARGV[1]) then
          local left = redis.call('PTTL', KEYS[1])
          if left < 0 then
            left = tonumber(ARGV[2])
          end
          return {0, left}
        end
        redis.call('INCRBY', KEYS[1], ARGV[3])
        if redis.call('PTTL', KEYS[1]) < 0 then
          redis.call('PEXPIRE', KEYS[1], ARGV[2])
        end
        return {1, 0}
        """;

    // A token bucket kept as one number (GCRA): the Redis time at which the bucket is full again. KEYS: that
    // time. ARGV: the bucket's size (tokens), the time one token takes to come back (ms), the tokens asked.
    // Answers {1, 0} when taken, else {0, ms until enough tokens are back}.
    private const string TokenBucketScript = """
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local size = tonumber(ARGV[1]) * tonumber(ARGV[2])
        local full = tonumber(redis.call('GET', KEYS[1]) or '0')
        if full < now then
          full = now
        end
        local after = full + tonumber(ARGV[3]) * tonumber(ARGV[2])
        if after - now > size then
          return {0, after - now - size}
        end
        redis.call('SET', KEYS[1], after, 'PX', after - now)
        return {1, 0}
        """;

    private int _unreachable;

    public RateLimiter CreateFixedWindow(string limit, string partition, FixedWindowRateLimiterOptions options) =>
        new RedisRateLimiter(this, FixedWindowScript, KeyFor(limit, partition),
            [options.PermitLimit, (long)Math.Ceiling(options.Window.TotalMilliseconds)],
            InMemoryRateLimitStore.FixedWindow(options));

    public RateLimiter CreateTokenBucket(string limit, string partition, TokenBucketRateLimiterOptions options) =>
        new RedisRateLimiter(this, TokenBucketScript, KeyFor(limit, partition),
            [options.TokenLimit, (long)Math.Ceiling(options.ReplenishmentPeriod.TotalMilliseconds / options.TokensPerPeriod)],
            InMemoryRateLimitStore.TokenBucket(options));

    internal static RedisKey KeyFor(string limit, string partition) =>
        $"{KeyPrefix}{limit}:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(partition)))}";

    /// <summary>Runs a limiter's script: whether the permits were taken and, if not, when to retry; null when Redis cannot answer.</summary>
    internal async ValueTask<(bool Taken, TimeSpan RetryAfter)?> CheckAsync(
        string script, RedisKey key, RedisValue[] arguments, CancellationToken cancellationToken)
    {
        if (!redis.IsConnected)
        {
            Unreachable(null);
            return null;
        }

        try
        {
            var answer = (RedisResult[])(await redis.GetDatabase()
                .ScriptEvaluateAsync(script, [key], arguments)
                .WaitAsync(Timeout, cancellationToken))!;
            Interlocked.Exchange(ref _unreachable, 0);
            return ((long)answer[0] == 1, TimeSpan.FromMilliseconds((long)answer[1]));
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            Unreachable(exception);
            return null;
        }
    }

    /// <summary>Logged once per outage, not once per request.</summary>
    private void Unreachable(Exception? exception)
    {
        if (Interlocked.Exchange(ref _unreachable, 1) == 0)
        {
            Log.Unreachable(logger, exception);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Redis is unreachable: rate limits count on this instance alone until it answers again")]
        public static partial void Unreachable(ILogger logger, Exception? exception);
    }
}

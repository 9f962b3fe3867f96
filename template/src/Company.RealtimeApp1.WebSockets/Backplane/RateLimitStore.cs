using System.Threading.RateLimiting;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// Where rate limits count: in this instance's memory, or, with a backplane, where every instance counts them
/// together (Redis: SPEC §4, N instances do not allow N times the limit). Each limiter made here is one
/// partition of a <see cref="PartitionedRateLimiter{TResource}"/> (<see cref="RateLimitPartition.Get{TKey}"/>),
/// which replenishes it, as <see cref="RateLimitPartition.GetFixedWindowLimiter{TKey}"/> would.
/// The ticket limit counts here; the app's other limits (<c>/token</c>'s) may too.
/// Acquire from its limiters with <see cref="RateLimiter.AcquireAsync"/> (as the rate-limiting middleware and the
/// partitioned limiters do): a shared store must ask it over the network, so a synchronous
/// <see cref="RateLimiter.AttemptAcquire"/> of one of its limiters is always refused.
/// </summary>
public interface IRateLimitStore
{
    /// <summary>
    /// A fixed window for <paramref name="partition"/> of the limit named <paramref name="limit"/>. The partition
    /// may be anything (a username, an address): a store that keeps it outside the process keeps only its hash.
    /// </summary>
    RateLimiter CreateFixedWindow(string limit, string partition, FixedWindowRateLimiterOptions options);

    /// <summary>A token bucket for <paramref name="partition"/> of the limit named <paramref name="limit"/>.</summary>
    RateLimiter CreateTokenBucket(string limit, string partition, TokenBucketRateLimiterOptions options);
}

/// <summary>One instance serving alone, or the fallback of a shared store that cannot be reached: the framework's own limiters.</summary>
internal sealed class InMemoryRateLimitStore : IRateLimitStore
{
    public RateLimiter CreateFixedWindow(string limit, string partition, FixedWindowRateLimiterOptions options) => FixedWindow(options);

    public RateLimiter CreateTokenBucket(string limit, string partition, TokenBucketRateLimiterOptions options) => TokenBucket(options);

    // Replenished by the partitioned limiter that holds them, rather than by a timer each.
    internal static FixedWindowRateLimiter FixedWindow(FixedWindowRateLimiterOptions options) => new(new FixedWindowRateLimiterOptions
    {
        PermitLimit = options.PermitLimit,
        Window = options.Window,
        QueueLimit = options.QueueLimit,
        QueueProcessingOrder = options.QueueProcessingOrder,
        AutoReplenishment = false,
    });

    internal static TokenBucketRateLimiter TokenBucket(TokenBucketRateLimiterOptions options) => new(new TokenBucketRateLimiterOptions
    {
        TokenLimit = options.TokenLimit,
        TokensPerPeriod = options.TokensPerPeriod,
        ReplenishmentPeriod = options.ReplenishmentPeriod,
        QueueLimit = options.QueueLimit,
        QueueProcessingOrder = options.QueueProcessingOrder,
        AutoReplenishment = false,
    });
}

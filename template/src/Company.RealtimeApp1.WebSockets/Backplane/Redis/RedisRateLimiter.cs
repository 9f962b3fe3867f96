using System.Diagnostics;
using System.Threading.RateLimiting;
using StackExchange.Redis;

namespace Company.RealtimeApp1.WebSockets.Redis;

/// <summary>
/// One partition of a rate limit counted in Redis (<see cref="RedisRateLimitStore"/>), with the framework's own
/// limiter of the same kind and settings as its fallback while Redis cannot be reached. The fallback also answers
/// for what only this process knows: its own replenishment, and, with when Redis was last asked, idleness (so the
/// partitioned limiter drops an idle partition).
/// </summary>
internal sealed class RedisRateLimiter(
    RedisRateLimitStore store, string script, RedisKey key, RedisValue[] settings, ReplenishingRateLimiter fallback)
    : ReplenishingRateLimiter
{
    private static readonly RateLimitLease Taken = new RedisLease(true, null);

    private long _lastAsked = Stopwatch.GetTimestamp();

    /// <summary>
    /// Idle while the fallback holds nothing and Redis was not asked for a while: the partitioned limiter then
    /// drops this partition, and Redis keeps its count meanwhile.
    /// </summary>
    public override TimeSpan? IdleDuration
    {
        get
        {
            var sinceAsked = Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastAsked));
            return fallback.IdleDuration is { } idle ? (idle < sinceAsked ? idle : sinceAsked) : null;
        }
    }

    public override bool IsAutoReplenishing => fallback.IsAutoReplenishing;

    public override TimeSpan ReplenishmentPeriod => fallback.ReplenishmentPeriod;

    public override bool TryReplenish() => fallback.TryReplenish();

    public override RateLimiterStatistics? GetStatistics() => fallback.GetStatistics();

    /// <summary>
    /// Redis cannot be asked without waiting, so a synchronous attempt is refused without a retry time; whoever
    /// can wait then asks <see cref="RateLimiter.AcquireAsync"/>, which asks Redis. ASP.NET Core's rate limiting
    /// middleware does exactly that: it tries, and waits when the try fails.
    /// </summary>
    protected override RateLimitLease AttemptAcquireCore(int permitCount) =>
        permitCount == 0 ? fallback.AttemptAcquire(0) : new RedisLease(false, null);

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        if (permitCount == 0)
        {
            return fallback.AttemptAcquire(0);
        }

        Interlocked.Exchange(ref _lastAsked, Stopwatch.GetTimestamp());
        return await store.CheckAsync(script, key, [.. settings, permitCount], cancellationToken) switch
        {
            { Taken: true } => Taken,
            { RetryAfter: var retryAfter } => new RedisLease(false, retryAfter),
            null => await fallback.AcquireAsync(permitCount, cancellationToken),
        };
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            fallback.Dispose();
        }

        base.Dispose(disposing);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await fallback.DisposeAsync();
        await base.DisposeAsyncCore();
    }

    /// <summary>A count Redis made: nothing to give back when it ends (a window or a bucket refills with time).</summary>
    private sealed class RedisLease(bool acquired, TimeSpan? retryAfter) : RateLimitLease
    {
        public override bool IsAcquired => acquired;

        public override IEnumerable<string> MetadataNames => retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            if (retryAfter is { } delay && metadataName == MetadataName.RetryAfter.Name)
            {
                metadata = delay;
                return true;
            }

            metadata = null;
            return false;
        }
    }
}

using System.Threading.RateLimiting;

namespace Company.RealtimeApp1.Auth;

/// <summary>
/// Makes the limiter of one partition of a <c>/token</c> rate limit (an address, a username), for a
/// <see cref="PartitionedRateLimiter{TResource}"/> that replenishes it. Auth's own counts on this instance; the
/// app answers with limiters every instance shares when there is a backplane (Users/RealtimeSeams.cs), so that
/// N instances do not allow N times the limit (SPEC §4). Auth declares what it needs and knows no more of it.
/// </summary>
public interface ITokenRateLimiters
{
    /// <summary>
    /// A fixed window for <paramref name="partition"/> of the limit named <paramref name="limit"/>. A partition
    /// may be a username: an implementation that keeps it outside the process keeps only its hash.
    /// </summary>
    RateLimiter CreateFixedWindow(string limit, string partition, FixedWindowRateLimiterOptions options);
}

/// <summary>One instance alone: the framework's fixed window, as <see cref="RateLimitPartition.GetFixedWindowLimiter{TKey}"/> makes it.</summary>
internal sealed class InstanceTokenRateLimiters : ITokenRateLimiters
{
    public RateLimiter CreateFixedWindow(string limit, string partition, FixedWindowRateLimiterOptions options) =>
        new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.PermitLimit,
            Window = options.Window,
            QueueLimit = options.QueueLimit,
            AutoReplenishment = false,
        });
}

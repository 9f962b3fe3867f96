using System.Net;
using StackExchange.Redis;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// With Redis, the rate limits count across all instances (SPEC §4): N instances do not allow N times the limit.
/// Each test spreads its requests over two instances that share one Redis; either instance refuses the one too many.
/// </summary>
public sealed class RedisRateLimitTests
{
    private const string TooManyRequests =
        """{"error":"too_many_requests","error_description":"Too many requests; retry after the time in the Retry-After header."}""";

    [Fact]
    public async Task PasswordAttemptsForOneUsernameCountOnEveryInstance()
    {
        await using var cluster = await RealtimeCluster.StartAsync(new() { ["RateLimiting:Token:PerUsername"] = "10" });
        var (userName, password) = await cluster.A.CreateUniqueUserAsync();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            using var allowed = await (i % 2 == 0 ? cluster.A : cluster.B)
                .PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", password));
            statuses.Add(allowed.StatusCode);
        }

        using var onA = await cluster.A.PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", password));
        using var onB = await cluster.B.PostTokenAsync(("grant_type", "password"), ("username", userName.ToUpperInvariant()), ("password", password));

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, 10), statuses);
        await AssertTooManyRequestsAsync(onA, maxRetryAfter: 60);
        await AssertTooManyRequestsAsync(onB, maxRetryAfter: 60);
        Assert.DoesNotContain(await KeysAsync(cluster), key => key.Contains(userName, StringComparison.OrdinalIgnoreCase));
        // Every count lives no longer than its window: nothing of a partition stays in Redis once it is idle.
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);
        var counts = (await KeysAsync(cluster)).Where(key => key.StartsWith("realtime:rate-limit:", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(counts);
        foreach (var key in counts)
        {
            Assert.InRange((await redis.GetDatabase().KeyTimeToLiveAsync(key))!.Value, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1));
        }
    }

    [Fact]
    public async Task TokenRequestsFromOneClientCountOnEveryInstance()
    {
        await using var cluster = await RealtimeCluster.StartAsync(new() { ["RateLimiting:Token:PerClient"] = "5" });

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var allowed = await (i % 2 == 0 ? cluster.A : cluster.B)
                .PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", "x" + i));
            statuses.Add(allowed.StatusCode);
        }

        using var onB = await cluster.B.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", "x"));
        using var onA = await cluster.A.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", "x"));

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.BadRequest, 5), statuses);
        await AssertTooManyRequestsAsync(onB, maxRetryAfter: 60);
        await AssertTooManyRequestsAsync(onA, maxRetryAfter: 60);
    }

    [Fact]
    public async Task TicketsForOneUserCountOnEveryInstance()
    {
        await using var cluster = await RealtimeCluster.StartAsync(new() { ["WebSockets:TicketsPerMinute"] = "4" });
        var user = await cluster.A.CreateSignedInUserAsync();
        var other = await cluster.A.CreateSignedInUserAsync();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            using var allowed = await (i % 2 == 0 ? cluster.A : cluster.B).CreateClient(user.Token).PostAsync("/ws/ticket", null);
            statuses.Add(allowed.StatusCode);
        }

        using var onA = await cluster.A.CreateClient(user.Token).PostAsync("/ws/ticket", null);
        using var onB = await cluster.B.CreateClient(user.Token).PostAsync("/ws/ticket", null);
        using var otherUser = await cluster.B.CreateClient(other.Token).PostAsync("/ws/ticket", null);

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, 4), statuses);
        // Four a minute: the next one is due in 15 seconds, as on one instance.
        await AssertTooManyRequestsAsync(onA, maxRetryAfter: 15);
        await AssertTooManyRequestsAsync(onB, maxRetryAfter: 15);
        Assert.Equal(HttpStatusCode.OK, otherUser.StatusCode);
    }

    [Fact]
    public async Task WhileRedisIsDownEachInstanceLimitsOnItsOwnRatherThanFail()
    {
        await using var cluster = await RealtimeCluster.StartAsync(new() { ["RateLimiting:Token:PerUsername"] = "2" });
        var (userName, password) = await cluster.A.CreateUniqueUserAsync();
        await cluster.Redis.StopAsync();
        using var health = cluster.A.CreateClient();
        await Eventually.HoldsAsync(async () =>
        {
            using var response = await health.GetAsync("/health");
            return response.StatusCode == HttpStatusCode.ServiceUnavailable;
        });

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 2; i++)
        {
            using var allowed = await cluster.A.PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", password));
            statuses.Add(allowed.StatusCode);
        }

        using var limited = await cluster.A.PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", password));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK], statuses);
        await AssertTooManyRequestsAsync(limited, maxRetryAfter: 60);
    }

    private static async Task<string[]> KeysAsync(RealtimeCluster cluster)
    {
        await using var redis = await ConnectionMultiplexer.ConnectAsync(cluster.Redis.ConnectionString);
        return redis.GetServers()[0].Keys(pattern: "*").Select(key => key.ToString()).ToArray();
    }

    private static async Task AssertTooManyRequestsAsync(HttpResponseMessage response, int maxRetryAfter)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.InRange(int.Parse(Assert.Single(response.Headers.GetValues("Retry-After"))), 1, maxRetryAfter);
        Assert.Equal(TooManyRequests, await response.Content.ReadAsStringAsync());
    }
}

using System.Net;

namespace Company.RealtimeApp1.Tests;

public sealed class RateLimitingTests
{
    [Fact]
    public async Task PasswordAttemptsBeyondTheLimitForOneUsernameGet429WithRetryAfter()
    {
        using var app = RealtimeApplication.With(new() { ["RateLimiting:Token:PerUsername"] = "3" });
        var (userName, password) = await app.CreateUniqueUserAsync();
        for (var i = 0; i < 3; i++)
        {
            await app.SignInAsync(userName, password);
        }

        using var limited = await app.PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", password));
        using var otherUser = await app.PostTokenAsync(("grant_type", "password"), ("username", "someone-else"), ("password", password));

        await AssertRateLimitedAsync(limited);
        Assert.Equal(HttpStatusCode.BadRequest, otherUser.StatusCode);
    }

    [Fact]
    public async Task TheUsernameLimitIgnoresCase()
    {
        using var app = RealtimeApplication.With(new() { ["RateLimiting:Token:PerUsername"] = "1" });
        var (userName, password) = await app.CreateUniqueUserAsync();
        await app.SignInAsync(userName, password);

        using var limited = await app.PostTokenAsync(("grant_type", "password"), ("username", userName.ToUpperInvariant()), ("password", password));

        await AssertRateLimitedAsync(limited);
    }

    [Fact]
    public async Task RequestsBeyondTheLimitForOneClientGet429WithRetryAfter()
    {
        using var app = RealtimeApplication.With(new() { ["RateLimiting:Token:PerClient"] = "5" });
        for (var i = 0; i < 5; i++)
        {
            using var allowed = await app.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", "x" + i));
            Assert.Equal(HttpStatusCode.BadRequest, allowed.StatusCode);
        }

        using var limited = await app.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", "x"));

        await AssertRateLimitedAsync(limited);
        Assert.Equal("no-store", limited.Headers.CacheControl?.ToString());
    }

    private static async Task AssertRateLimitedAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        var retryAfter = response.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        Assert.InRange(retryAfter.Value, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(60));
        Assert.Equal(
            ("too_many_requests", "Too many requests; retry after the time in the Retry-After header."),
            await response.ReadOAuthErrorAsync());
    }
}

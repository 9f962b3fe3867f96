using System.Net;
using Company.RealtimeApp1.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

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

    [Theory]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", true)]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:3::1", false)]
    [InlineData("2001:db8:1:2::1%3", "2001:db8:1:2::2", true)]
    [InlineData("::ffff:1.2.3.4", "1.2.3.4", true)]
    [InlineData("1.2.3.4", "1.2.3.5", false)]
    [InlineData("::ffff:1.2.3.4", "::ffff:1.2.3.5", false)]
    public void TheClientLimitGroupsIPv6AddressesByTheirSlash64AndIPv4ByAddress(string first, string second, bool shared)
    {
        var (a, b) = (TokenRateLimiting.ClientPartitionKey(IPAddress.Parse(first)), TokenRateLimiting.ClientPartitionKey(IPAddress.Parse(second)));

        Assert.Equal(shared, a == b);
    }

    [Fact]
    public async Task AddressesOfOneIPv6Slash64ShareTheClientLimit()
    {
        using var app = RealtimeApplication.With(
            new() { ["RateLimiting:Token:PerClient"] = "2" },
            services: services => services.AddSingleton<IStartupFilter, RemoteAddressFromHeader>());

        var statuses = new List<HttpStatusCode>();
        foreach (var address in (string[])["2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:aaaa::3", "2001:db8:1:3::1"])
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/token") { Content = RealtimeApplication.Form(("grant_type", "refresh_token"), ("refresh_token", "x")) };
            request.Headers.Add(RemoteAddressFromHeader.Header, address);
            using var response = await app.CreateClient().SendAsync(request);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.TooManyRequests, HttpStatusCode.BadRequest], statuses);
    }

    /// <summary>Stands in for a client address, which a test cannot choose: runs before the app's pipeline, so before the rate limiter.</summary>
    private sealed class RemoteAddressFromHeader : IStartupFilter
    {
        public const string Header = "X-Test-Remote-Address";

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                if (IPAddress.TryParse(context.Request.Headers[Header], out var address))
                {
                    context.Connection.RemoteIpAddress = address;
                }

                return nextMiddleware(context);
            });
            next(app);
        };
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

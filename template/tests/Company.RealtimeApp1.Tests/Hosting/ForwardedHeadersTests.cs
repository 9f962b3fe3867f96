using System.Net;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// <c>ForwardedHeaders:KnownProxies</c> / <c>KnownNetworks</c>: the client address and scheme a listed proxy forwards
/// are believed (the token endpoint's per-client limit, the session cookie's Secure flag); anyone else's are not.
/// The test client connects over loopback, so loopback plays the proxy.
/// </summary>
public sealed class ForwardedHeadersTests
{
    private static readonly Dictionary<string, string?> LoopbackIsAProxy = new()
    {
        ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1",
        ["ForwardedHeaders:KnownProxies:1"] = "::1",
    };

    [Fact]
    public async Task AKnownProxysForwardedForIsTheClientOfThePerClientLimit()
    {
        using var app = RealtimeApplication.With(new(LoopbackIsAProxy) { ["RateLimiting:Token:PerClient"] = "1" });

        var statuses = await PostTokenFromAsync(app, "203.0.113.1", "203.0.113.2", "203.0.113.1");

        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task AKnownNetworkCountsAsAKnownProxy()
    {
        using var app = RealtimeApplication.With(new()
        {
            ["ForwardedHeaders:KnownNetworks:0"] = "127.0.0.0/8",
            ["ForwardedHeaders:KnownNetworks:1"] = "::1/128",
            ["RateLimiting:Token:PerClient"] = "1",
        });

        var statuses = await PostTokenFromAsync(app, "203.0.113.1", "203.0.113.2");

        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.BadRequest], statuses);
    }

    [Fact]
    public async Task AnUnknownProxysForwardedForIsIgnored()
    {
        using var app = RealtimeApplication.With(new()
        {
            ["ForwardedHeaders:KnownProxies:0"] = "192.0.2.1",
            ["RateLimiting:Token:PerClient"] = "1",
        });

        var statuses = await PostTokenFromAsync(app, "203.0.113.1", "203.0.113.2");

        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task WithoutTrustedProxiesNoForwardedHeaderIsRead()
    {
        using var app = RealtimeApplication.With(new() { ["RateLimiting:Token:PerClient"] = "1" });

        var statuses = await PostTokenFromAsync(app, "203.0.113.1", "203.0.113.2");

        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.TooManyRequests], statuses);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public async Task AKnownProxysForwardedProtoHttpsMakesTheSessionCookieSecure(bool loopbackIsAProxy, bool secure)
    {
        using var app = RealtimeApplication.With(loopbackIsAProxy ? new(LoopbackIsAProxy) : new() { ["ForwardedHeaders:KnownProxies:0"] = "192.0.2.1" });
        var (userName, password) = await app.CreateUniqueUserAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/session")
        {
            Content = RealtimeApplication.Form(("username", userName), ("password", password)),
        };
        request.Headers.Add("X-Forwarded-Proto", "https");

        using var response = await app.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var cookies = response.Headers.GetValues("Set-Cookie").ToList();
        Assert.Equal([Handshakes.SessionCookie, Handshakes.RefreshCookie], cookies.Select(c => c[..c.IndexOf('=')]));
        Assert.All(cookies, cookie => Assert.Equal(secure, cookie.Split(';', StringSplitOptions.TrimEntries).Contains("secure", StringComparer.OrdinalIgnoreCase)));
    }

    [Theory]
    [InlineData("ForwardedHeaders:KnownProxies:0", "10.0.0.0/24", "'ForwardedHeaders:KnownProxies' has an entry that is not an IP address.")]
    [InlineData("ForwardedHeaders:KnownNetworks:0", "10.0.0.5", "'ForwardedHeaders:KnownNetworks' has an entry that is not a network in CIDR notation")]
    public void AnEntryThatIsNotAnAddressOrNetworkStopsTheApp(string key, string value, string message)
    {
        using var app = RealtimeApplication.With(new() { [key] = value });

        var failure = app.StartupFailure();

        Assert.Contains(message, failure);
    }

    private static async Task<List<HttpStatusCode>> PostTokenFromAsync(RealtimeApplication app, params string[] forwardedFor)
    {
        var statuses = new List<HttpStatusCode>();
        foreach (var address in forwardedFor)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/token")
            {
                Content = RealtimeApplication.Form(("grant_type", "refresh_token"), ("refresh_token", "x")),
            };
            request.Headers.Add("X-Forwarded-For", address);
            using var response = await app.CreateClient().SendAsync(request);
            statuses.Add(response.StatusCode);
        }

        return statuses;
    }
}

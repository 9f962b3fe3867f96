using System.Net;
using System.Text;
using Company.RealtimeApp1.Auth;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Company.RealtimeApp1.Tests;

public sealed class SessionCookieTests(RealtimeApplication app) : IClassFixture<RealtimeApplication>
{
    private const string Path = EchoConsumer.Path;

    [Fact]
    public async Task SigningInSetsAnHttpOnlyStrictCookieHoldingAnAccessTokenForItsLifetime()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();

        using var response = await PostSessionAsync(("username", userName), ("password", password));

        var seconds = (long)app.Services.GetRequiredService<IOptions<JwtOptions>>().Value.AccessTokenLifetime.TotalSeconds;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($$"""{"expires_in":{{seconds}}}""", await response.Content.ReadAsStringAsync());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        var token = CookieValue(setCookie);
        Assert.Equal($"{Handshakes.SessionCookie}={token}; max-age={seconds}; path=/; samesite=strict; httponly", setCookie);
        Assert.Equal(userName, new JsonWebToken(token).GetClaim("name").Value);
    }

    [Fact]
    public async Task AWrongPasswordIsInvalidGrantAndSetsNoCookie()
    {
        var (userName, _) = await app.CreateUniqueUserAsync();

        using var response = await PostSessionAsync(("username", userName), ("password", "not the password"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(("invalid_grant", "The username or password is incorrect."), await response.ReadOAuthErrorAsync());
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task AMissingPasswordIsInvalidRequest()
    {
        using var response = await PostSessionAsync(("username", "alice"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(("invalid_request", "The 'password' parameter is missing."), await response.ReadOAuthErrorAsync());
    }

    [Fact]
    public async Task AJsonBodyIsInvalidRequest()
    {
        using var response = await CreateClient().PostAsync(
            "/session", new StringContent("""{"username":"alice","password":"x"}""", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_request", (await response.ReadOAuthErrorAsync()).Error);
    }

    [Fact]
    public async Task APageOnAForeignOriginCannotSignTheBrowserIn()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/session")
        {
            Content = RealtimeApplication.Form(("username", userName), ("password", password)),
        };
        request.Headers.Add("Origin", "https://evil.example");

        using var response = await CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task SigningOutClearsTheCookie()
    {
        using var response = await CreateClient().DeleteAsync("/session");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(
            $"{Handshakes.SessionCookie}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/; samesite=strict; httponly",
            Assert.Single(response.Headers.GetValues("Set-Cookie")));
    }

    [Fact]
    public async Task TheCookieOpensASocketFromAPageOnTheServersOwnOrigin()
    {
        var (userName, cookie) = await SignInWithCookieAsync();

        await using var socket = await app.ConnectAsync(Path, options =>
        {
            options.SetRequestHeader("Cookie", cookie);
            options.SetRequestHeader("Origin", app.OwnOrigin());
        });

        var welcome = await socket.ReceiveJsonAsync("welcome");
        Assert.Equal(userName, welcome.GetProperty("user").GetProperty("username").GetString());
    }

    [Fact]
    public async Task TheCookieOpensASocketFromAnAllowedOrigin()
    {
        using var allowing = RealtimeApplication.With(new() { ["WebSockets:AllowedOrigins:0"] = "https://app.example.com" });
        var (userName, password) = await allowing.CreateUniqueUserAsync();
        using var response = await allowing.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false, BaseAddress = allowing.ServerAddress })
            .PostAsync("/session", RealtimeApplication.Form(("username", userName), ("password", password)));
        var cookie = $"{Handshakes.SessionCookie}={CookieValue(response.Headers.GetValues("Set-Cookie").Single())}";

        await using var socket = await allowing.ConnectAsync(Path, options =>
        {
            options.SetRequestHeader("Cookie", cookie);
            options.SetRequestHeader("Origin", "https://app.example.com");
        });

        await socket.ReceiveJsonAsync("welcome");
    }

    [Fact]
    public async Task WithoutAnOriginTheCookieIsNotACredential()
    {
        var (_, cookie) = await SignInWithCookieAsync();

        await using var socket = await app.ConnectAsync(Path, options => options.SetRequestHeader("Cookie", cookie));

        await socket.AssertRefusedAsync(401, "missing_token", "The session cookie is accepted only with the Origin header of an allowed origin.");
    }

    [Fact]
    public async Task TheCookieAndADifferentTokenAreTwoCredentials()
    {
        var (_, cookie) = await SignInWithCookieAsync();
        var (_, token) = await app.SignInNewUserAsync();

        await using var socket = await app.ConnectAsync(Path, options =>
        {
            options.SetRequestHeader("Cookie", cookie);
            options.SetRequestHeader("Origin", app.OwnOrigin());
            options.SetRequestHeader("Authorization", "Bearer " + token);
        });

        await socket.AssertRefusedAsync(401, "invalid_token", "Only one credential may be sent, and this request carried more than one.");
    }

    [Fact]
    public async Task TheCookieIsIgnoredOnHttpEndpoints()
    {
        var (_, cookie) = await SignInWithCookieAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/me");
        request.Headers.Add("Cookie", cookie);
        request.Headers.Add("Origin", app.OwnOrigin());

        using var response = await CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    private HttpClient CreateClient() => app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false, BaseAddress = app.ServerAddress });

    private Task<HttpResponseMessage> PostSessionAsync(params (string Key, string Value)[] fields) =>
        CreateClient().PostAsync("/session", RealtimeApplication.Form(fields));

    /// <summary>Signs a new user in with <c>POST /session</c>; returns the Cookie header a browser would then send.</summary>
    private async Task<(string UserName, string Cookie)> SignInWithCookieAsync()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        using var response = await PostSessionAsync(("username", userName), ("password", password));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (userName, $"{Handshakes.SessionCookie}={CookieValue(response.Headers.GetValues("Set-Cookie").Single())}");
    }

    private static string CookieValue(string setCookie)
    {
        var pair = setCookie.Split(';')[0];
        Assert.StartsWith(Handshakes.SessionCookie + "=", pair);
        return pair[(Handshakes.SessionCookie.Length + 1)..];
    }
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
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
    public async Task SigningInSetsHttpOnlyStrictCookiesForTheAccessTokenAndTheSessionsRefreshToken()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();

        using var response = await PostSessionAsync(("username", userName), ("password", password));

        var jwt = app.Services.GetRequiredService<IOptions<JwtOptions>>().Value;
        var seconds = (long)jwt.AccessTokenLifetime.TotalSeconds;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var token = CookieValue(response, Handshakes.SessionCookie);
        Assert.Equal($$"""{"access_token":"{{token}}","token_type":"Bearer","expires_in":{{seconds}}}""", await response.Content.ReadAsStringAsync());
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        var refresh = CookieValue(response, Handshakes.RefreshCookie);
        Assert.Equal(
            [
                $"{Handshakes.SessionCookie}={token}; max-age={seconds}; path=/; samesite=strict; httponly",
                $"{Handshakes.RefreshCookie}={refresh}; max-age={(long)jwt.RefreshTokenLifetime.TotalSeconds}; path=/session; samesite=strict; httponly",
            ],
            response.Headers.GetValues("Set-Cookie"));
        Assert.Equal(userName, new JsonWebToken(token).GetClaim("name").Value);
    }

    [Fact]
    public async Task TheRefreshCookieRenewsTheSessionSoAReloadedPageStaysSignedIn()
    {
        var (userName, signIn) = await SignInAsync();
        var oldToken = CookieValue(signIn, Handshakes.SessionCookie);

        using var renewed = await RefreshAsync(signIn.CookiePair(Handshakes.RefreshCookie));

        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
        Assert.Equal("no-store", renewed.Headers.CacheControl?.ToString());
        var token = CookieValue(renewed, Handshakes.SessionCookie);
        Assert.NotEqual(oldToken, token);
        Assert.NotEqual(CookieValue(signIn, Handshakes.RefreshCookie), CookieValue(renewed, Handshakes.RefreshCookie));
        using var body = JsonDocument.Parse(await renewed.Content.ReadAsStringAsync());
        Assert.Equal(["access_token", "token_type", "expires_in"], body.RootElement.EnumerateObject().Select(p => p.Name));
        Assert.Equal(token, body.RootElement.GetProperty("access_token").GetString());
        using var me = new HttpRequestMessage(HttpMethod.Get, "/me");
        me.Headers.Authorization = new("Bearer", token);
        using var meResponse = await CreateClient().SendAsync(me);
        Assert.Equal(HttpStatusCode.OK, meResponse.StatusCode);
        Assert.Equal(userName, (await meResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("username").GetString());

        // The renewed refresh cookie renews again: the session goes on for as long as its family lives.
        using var again = await RefreshAsync(renewed.CookiePair(Handshakes.RefreshCookie));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
    }

    [Fact]
    public async Task ARotatedRefreshCookiePresentedAgainEndsTheSessionAndClearsBothCookies()
    {
        var (_, signIn) = await SignInAsync();
        var first = signIn.CookiePair(Handshakes.RefreshCookie);
        using var renewed = await RefreshAsync(first);
        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);

        using var replayed = await RefreshAsync(first);

        Assert.Equal(HttpStatusCode.BadRequest, replayed.StatusCode);
        Assert.Equal(("invalid_grant", "The session is invalid, expired or revoked; sign in again."), await replayed.ReadOAuthErrorAsync());
        AssertCleared(replayed);
        // A reuse kills the family: the cookie the refresh just rotated to is dead too.
        using var afterReuse = await RefreshAsync(renewed.CookiePair(Handshakes.RefreshCookie));
        Assert.Equal(HttpStatusCode.BadRequest, afterReuse.StatusCode);
    }

    [Fact]
    public async Task WithoutARefreshCookieThereIsNoSessionToRenewAndAStaleAccessCookieIsCleared()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/session/refresh");
        request.Headers.Add("Origin", app.OwnOrigin());

        using var response = await CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(("invalid_grant", "There is no session to renew; sign in with POST /session."), await response.ReadOAuthErrorAsync());
        AssertCleared(response);
    }

    [Fact]
    public async Task WithoutAnOriginTheRefreshCookieIsNotACredential()
    {
        var (_, signIn) = await SignInAsync();
        using var request = new HttpRequestMessage(HttpMethod.Post, "/session/refresh");
        request.Headers.Add("Cookie", signIn.CookiePair(Handshakes.RefreshCookie));

        using var response = await CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task SigningInAgainEndsTheBrowsersPreviousSessionWhoeverItWas()
    {
        var (_, first) = await SignInAsync();
        var (otherUser, otherPassword) = await app.CreateUniqueUserAsync();
        using var again = new HttpRequestMessage(HttpMethod.Post, "/session")
        {
            Content = RealtimeApplication.Form(("username", otherUser), ("password", otherPassword)),
        };
        again.Headers.Add("Cookie", first.CookiePair(Handshakes.RefreshCookie));

        using var signedIn = await CreateClient().SendAsync(again);

        Assert.Equal(HttpStatusCode.OK, signedIn.StatusCode);
        using var previous = await RefreshAsync(first.CookiePair(Handshakes.RefreshCookie));
        Assert.Equal(HttpStatusCode.BadRequest, previous.StatusCode);
        using var current = await RefreshAsync(signedIn.CookiePair(Handshakes.RefreshCookie));
        Assert.Equal(HttpStatusCode.OK, current.StatusCode);
    }

    [Fact]
    public async Task APageOnAForeignOriginCannotRenewTheSession()
    {
        var (_, signIn) = await SignInAsync();

        using var response = await RefreshAsync(signIn.CookiePair(Handshakes.RefreshCookie), origin: "https://evil.example");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
        using var fromOwnPage = await RefreshAsync(signIn.CookiePair(Handshakes.RefreshCookie));
        Assert.Equal(HttpStatusCode.OK, fromOwnPage.StatusCode);
    }

    [Fact]
    public async Task SigningOutRevokesTheSessionAndClearsBothCookies()
    {
        var (_, signIn) = await SignInAsync();
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/session");
        request.Headers.Add("Cookie", signIn.CookiePair(Handshakes.RefreshCookie));

        using var response = await CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        AssertCleared(response);
        using var renewed = await RefreshAsync(signIn.CookiePair(Handshakes.RefreshCookie));
        Assert.Equal(HttpStatusCode.BadRequest, renewed.StatusCode);
        Assert.Equal("invalid_grant", (await renewed.ReadOAuthErrorAsync()).Error);
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
    public async Task SigningOutWithoutASessionClearsTheCookies()
    {
        using var response = await CreateClient().DeleteAsync("/session");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        AssertCleared(response);
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
        var cookie = response.CookiePair(Handshakes.SessionCookie);

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
        var (userName, response) = await SignInAsync();
        using (response)
        {
            return (userName, response.CookiePair(Handshakes.SessionCookie));
        }
    }

    private async Task<(string UserName, HttpResponseMessage Response)> SignInAsync()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var response = await PostSessionAsync(("username", userName), ("password", password));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (userName, response);
    }

    /// <summary><c>POST /session/refresh</c> as the app's own page sends it: the refresh cookie and the page's origin.</summary>
    private async Task<HttpResponseMessage> RefreshAsync(string refreshCookie, string? origin = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/session/refresh");
        request.Headers.Add("Cookie", refreshCookie);
        request.Headers.Add("Origin", origin ?? app.OwnOrigin());
        return await CreateClient().SendAsync(request);
    }

    private static void AssertCleared(HttpResponseMessage response) =>
        Assert.Equal(
            [
                $"{Handshakes.SessionCookie}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/; samesite=strict; httponly",
                $"{Handshakes.RefreshCookie}=; expires=Thu, 01 Jan 1970 00:00:00 GMT; path=/session; samesite=strict; httponly",
            ],
            response.Headers.GetValues("Set-Cookie"));

    private static string CookieValue(HttpResponseMessage response, string name) => response.CookiePair(name)[(name.Length + 1)..];
}

using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Company.RealtimeApp1.WebSockets;

namespace Company.RealtimeApp1.Tests;

/// <summary><c>POST /me/password</c>: the signed-in user changes their own password, and every other session ends.</summary>
public sealed class PasswordChangeTests(RealtimeApplication app) : IClassFixture<RealtimeApplication>
{
    private const string NewPassword = "a brand new passphrase";

    [Fact]
    public async Task ChangingThePasswordAnswersAFreshTokenPairAsTheTokenEndpointDoesAndOnlyTheNewPasswordSignsIn()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);

        using var response = await ChangeAsync(tokens.AccessToken, ("current_password", password), ("new_password", NewPassword));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Equal("no-cache", response.Headers.Pragma.ToString());
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(
            ["access_token", "expires_in", "refresh_token", "token_type"],
            body.RootElement.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var fresh = body.RootElement.Deserialize<TokenPair>()!;
        Assert.Equal(("Bearer", tokens.ExpiresIn), (fresh.TokenType, fresh.ExpiresIn));
        using var old = await app.PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", password));
        Assert.Equal(("invalid_grant", "The username or password is incorrect."), await old.ReadOAuthErrorAsync());
        await app.SignInAsync(userName, NewPassword);
    }

    [Fact]
    public async Task TheCallerStaysSignedInWithTheFreshPairWhileItsOldTokensAreRefused()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);

        using var response = await ChangeAsync(tokens.AccessToken, ("current_password", password), ("new_password", NewPassword));
        var fresh = (await response.Content.ReadFromJsonAsync<TokenPair>())!;

        var me = await app.CreateClient(fresh.AccessToken).GetFromJsonAsync<Me>("/me");
        Assert.Equal(userName, me!.Username);
        await using (var socket = await app.ConnectAsync(EchoConsumer.Path, fresh.AccessToken))
        {
            await socket.ReceiveJsonAsync("welcome");
        }

        var refreshed = await app.RefreshAsync(fresh.RefreshToken);
        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient(refreshed.AccessToken).GetAsync("/me")).StatusCode);
        using var oldAccess = await app.CreateClient(tokens.AccessToken).GetAsync("/me");
        Assert.Equal(HttpStatusCode.Unauthorized, oldAccess.StatusCode);
        var challenge = Assert.Single(oldAccess.Headers.WwwAuthenticate);
        Assert.Equal("Bearer", challenge.Scheme);
        Assert.StartsWith("error=\"invalid_token\"", challenge.Parameter);
        using var oldRefresh = await app.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", tokens.RefreshToken));
        Assert.Equal(("invalid_grant", "The refresh token is invalid, expired or revoked."), await oldRefresh.ReadOAuthErrorAsync());
    }

    /// <summary>
    /// Over Redis, the change's revocation reaches each instance a round trip later, perhaps after the client opened a
    /// socket there with its fresh token: the revocation tells the sockets to close by the credentials they hold, not
    /// by when it arrives. Here the very revocation the change published is delivered again, late.
    /// </summary>
    [Fact]
    public async Task ASocketOpenedWithTheFreshPairOutlivesTheChangesRevocationHoweverLateItArrives()
    {
        var heard = new List<Revocation>();
        await using var recording = RealtimeApplication.With([], services: services => services.AddSingleton<IRevocationListener>(new RecordingListener(heard)));
        var (userName, password) = await recording.CreateUniqueUserAsync();
        var tokens = await recording.SignInAsync(userName, password);
        await using var old = await recording.JoinedAsync(EchoConsumer.Path, tokens.AccessToken);
        lock (heard)
        {
            heard.Clear(); // what making the user published
        }

        using var client = recording.CreateClient(tokens.AccessToken);
        using var response = await client.PostAsync("/me/password", RealtimeApplication.Form(("current_password", password), ("new_password", NewPassword)));
        var fresh = (await response.Content.ReadFromJsonAsync<TokenPair>())!;
        Assert.Equal((4001, "credentials changed"), await old.ReceiveCloseAsync());
        await using var socket = await recording.JoinedAsync(EchoConsumer.Path, fresh.AccessToken);

        var revocation = Assert.Single(heard);
        var registry = recording.Services.GetRequiredService<ConnectionRegistry>();
        await Eventually.HoldsAsync(() => registry.ForUser(revocation.UserId).Count() == 1); // the old socket has gone
        await recording.Services.GetRequiredService<StreamPublisher>()
            .PublishAsync(ConnectionRevocations.Stream, revocation, RevocationJsonContext.Default.Revocation);

        Assert.Equal(2, heard.Count); // the in-memory bus delivers as it publishes
        var connection = Assert.Single(registry.ForUser(revocation.UserId));
        Assert.False(connection.Closing.IsCancellationRequested, "The socket opened with the fresh token was closed.");
        await socket.SendJsonAsync(new { type = "ping" });
        await socket.ReceiveJsonAsync("pong");
    }

    private sealed class RecordingListener(List<Revocation> heard) : IRevocationListener
    {
        public void OnRevoked(Revocation revocation)
        {
            lock (heard)
            {
                heard.Add(revocation);
            }
        }
    }

    [Fact]
    public async Task ChangingThePasswordEndsEveryOtherSession()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var laptop = await app.SignInAsync(userName, password);
        var phone = await app.SignInAsync(userName, password);
        await using var socket = await app.ConnectAsync(EchoConsumer.Path, phone.AccessToken);
        await socket.ReceiveJsonAsync("welcome");

        using var response = await ChangeAsync(laptop.AccessToken, ("current_password", password), ("new_password", NewPassword));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal((4001, "credentials changed"), await socket.ReceiveCloseAsync());
        foreach (var refreshToken in new[] { laptop.RefreshToken, phone.RefreshToken })
        {
            using var refresh = await app.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", refreshToken));
            Assert.Equal(("invalid_grant", "The refresh token is invalid, expired or revoked."), await refresh.ReadOAuthErrorAsync());
        }

        using var me = await app.CreateClient(phone.AccessToken).GetAsync("/me");
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
    }

    [Fact]
    public async Task AWrongCurrentPasswordIsInvalidGrantAndChangesNothing()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);

        using var response = await ChangeAsync(tokens.AccessToken, ("current_password", "not the password"), ("new_password", NewPassword));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(("invalid_grant", "The current password is incorrect."), await response.ReadOAuthErrorAsync());
        await app.SignInAsync(userName, password);
    }

    [Fact]
    public async Task FiveWrongCurrentPasswordsLockTheAccountOut()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);

        for (var i = 0; i < 5; i++)
        {
            (await ChangeAsync(tokens.AccessToken, ("current_password", "not the password"), ("new_password", NewPassword))).Dispose();
        }

        using var right = await ChangeAsync(tokens.AccessToken, ("current_password", password), ("new_password", NewPassword));
        Assert.Equal(("invalid_grant", "The current password is incorrect."), await right.ReadOAuthErrorAsync());
        using var signIn = await app.PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", password));
        Assert.Equal(("invalid_grant", "The username or password is incorrect."), await signIn.ReadOAuthErrorAsync());
    }

    [Fact]
    public async Task CurrentPasswordAttemptsShareThePerUsernameRateLimitOfSignIns()
    {
        using var limited = RealtimeApplication.With(new() { ["RateLimiting:Token:PerUsername"] = "2" });
        var (userName, password) = await limited.CreateUniqueUserAsync();
        var tokens = await limited.SignInAsync(userName, password);
        var client = limited.CreateClient(tokens.AccessToken);

        using var second = await client.PostAsync("/me/password", RealtimeApplication.Form(("current_password", "wrong"), ("new_password", NewPassword)));
        using var third = await client.PostAsync("/me/password", RealtimeApplication.Form(("current_password", password), ("new_password", NewPassword)));

        Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.NotNull(third.Headers.RetryAfter);
        Assert.Equal(("too_many_requests", "Too many requests; retry after the time in the Retry-After header."), await third.ReadOAuthErrorAsync());
    }

    [Fact]
    public async Task ANewPasswordBcryptWouldTruncateIsRefused()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);

        using var response = await ChangeAsync(tokens.AccessToken, ("current_password", password), ("new_password", new string('x', 73)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(("invalid_request", "Passwords must be at most 72 UTF-8 bytes long."), await response.ReadOAuthErrorAsync());
        await app.SignInAsync(userName, password);
    }

    [Fact]
    public async Task AMissingParameterIsInvalidRequest()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);

        using var response = await ChangeAsync(tokens.AccessToken, ("current_password", password));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(("invalid_request", "The 'new_password' parameter is missing."), await response.ReadOAuthErrorAsync());
    }

    [Fact]
    public async Task WithoutABearerTokenItIs401()
    {
        using var response = await app.CreateClient().PostAsync(
            "/me/password", RealtimeApplication.Form(("current_password", "x"), ("new_password", NewPassword)));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    private Task<HttpResponseMessage> ChangeAsync(string accessToken, params (string Key, string Value)[] fields) =>
        app.CreateClient(accessToken).PostAsync("/me/password", RealtimeApplication.Form(fields));
}

using System.Net;
using System.Net.Http.Json;
using System.Text;
using Company.RealtimeApp1.Auth;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Company.RealtimeApp1.Tests;

public sealed class TokenEndpointTests(RealtimeApplication app) : IClassFixture<RealtimeApplication>
{
    [Fact]
    public async Task PasswordGrantReturnsABearerTokenPairThatExpiresAfterTheConfiguredLifetime()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();

        using var response = await app.PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", password));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var tokens = (await response.Content.ReadFromJsonAsync<TokenPair>())!;
        Assert.Equal("Bearer", tokens.TokenType);
        var lifetime = app.Services.GetRequiredService<IOptions<JwtOptions>>().Value.AccessTokenLifetime;
        Assert.Equal((long)lifetime.TotalSeconds, tokens.ExpiresIn);
        var jwt = new JsonWebToken(tokens.AccessToken);
        Assert.Equal("HS256", jwt.Alg);
        Assert.Equal(userName, jwt.GetClaim("name").Value);
        Assert.Equal(tokens.ExpiresIn, (long)(jwt.ValidTo - jwt.IssuedAt).TotalSeconds);
        Assert.False(string.IsNullOrEmpty(tokens.RefreshToken));
    }

    [Fact]
    public async Task TokenResponsesAreNeverCached()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();

        using var success = await app.PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", password));
        using var failure = await app.PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", "wrong password!!"));

        foreach (var response in new[] { success, failure })
        {
            Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
            Assert.Equal("no-cache", response.Headers.Pragma.ToString());
        }
    }

    [Fact]
    public async Task WrongPasswordAndUnknownUserGetTheSameInvalidGrantAnswer()
    {
        var (userName, _) = await app.CreateUniqueUserAsync();

        using var wrongPassword = await app.PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", "not the password"));
        using var unknownUser = await app.PostTokenAsync(("grant_type", "password"), ("username", "nobody-" + userName), ("password", "not the password"));

        Assert.Equal(HttpStatusCode.BadRequest, wrongPassword.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, unknownUser.StatusCode);
        Assert.Equal(("invalid_grant", "The username or password is incorrect."), await wrongPassword.ReadOAuthErrorAsync());
        Assert.Equal(await wrongPassword.Content.ReadAsStringAsync(), await unknownUser.Content.ReadAsStringAsync());
    }

    [Theory]
    [InlineData("username=alice&password=x", "The 'grant_type' parameter is missing.")]
    [InlineData("grant_type=&username=alice&password=x", "The 'grant_type' parameter is missing.")]
    [InlineData("grant_type=password&password=x", "The 'username' parameter is missing.")]
    [InlineData("grant_type=password&username=alice&password=", "The 'password' parameter is missing.")]
    [InlineData("grant_type=password&grant_type=password&username=alice&password=x", "The 'grant_type' parameter was given more than once.")]
    [InlineData("grant_type=password&username=alice&username=bob&password=x", "The 'username' parameter was given more than once.")]
    [InlineData("grant_type=refresh_token", "The 'refresh_token' parameter is missing.")]
    public async Task MalformedTokenRequestsAreInvalidRequest(string body, string description)
    {
        using var response = await app.CreateClient().PostAsync(
            "/token", new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(("invalid_request", description), await response.ReadOAuthErrorAsync());
    }

    [Fact]
    public async Task AJsonBodyIsInvalidRequest()
    {
        using var response = await app.CreateClient().PostAsJsonAsync(
            "/token", new { grant_type = "password", username = "alice", password = "alice-dev-password" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(
            ("invalid_request", "The request body must be application/x-www-form-urlencoded (RFC 6749 §3.2)."),
            await response.ReadOAuthErrorAsync());
    }

    [Fact]
    public async Task AnUnknownGrantTypeIsUnsupportedGrantType()
    {
        using var response = await app.PostTokenAsync(("grant_type", "client_credentials"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(
            ("unsupported_grant_type", "grant_type must be 'password' or 'refresh_token'."),
            await response.ReadOAuthErrorAsync());
    }

    [Fact]
    public async Task APasswordOverOneKibibyteIsRefusedBeforeHashing()
    {
        var (userName, _) = await app.CreateUniqueUserAsync();

        using var response = await app.PostTokenAsync(
            ("grant_type", "password"), ("username", userName), ("password", new string('p', 1025)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(("invalid_request", "The password parameter is longer than 1024 bytes."), await response.ReadOAuthErrorAsync());
    }

    [Fact]
    public async Task AnOversizedFormIsInvalidRequest()
    {
        using var response = await app.PostTokenAsync(
            ("grant_type", "password"), ("username", "alice"), ("password", new string('p', 64 * 1024)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(
            ("invalid_request", "The request body is not a valid form or is too large."),
            await response.ReadOAuthErrorAsync());
    }

    [Theory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    public async Task OnlyPostIsAllowed(string method)
    {
        using var response = await app.CreateClient().SendAsync(new HttpRequestMessage(new HttpMethod(method), "/token"));

        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
        Assert.Equal("POST", string.Join(",", response.Content.Headers.Allow));
        Assert.Equal(("invalid_request", "This endpoint accepts POST only."), await response.ReadOAuthErrorAsync());
    }

    [Fact]
    public async Task RefreshGrantReturnsANewPair()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var first = await app.SignInAsync(userName, password);

        using var response = await app.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", first.RefreshToken));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var second = (await response.Content.ReadFromJsonAsync<TokenPair>())!;
        Assert.NotEqual(first.RefreshToken, second.RefreshToken);
        Assert.NotEqual(first.AccessToken, second.AccessToken);
        using var me = await app.CreateClient(second.AccessToken).GetAsync("/me");
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
    }

    [Fact]
    public async Task ReusingARotatedRefreshTokenRevokesItsWholeFamily()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var first = await app.SignInAsync(userName, password);
        var second = await app.RefreshAsync(first.RefreshToken);

        using var reuse = await app.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", first.RefreshToken));
        using var afterReuse = await app.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", second.RefreshToken));

        Assert.Equal(HttpStatusCode.BadRequest, reuse.StatusCode);
        Assert.Equal(("invalid_grant", "The refresh token is invalid, expired or revoked."), await reuse.ReadOAuthErrorAsync());
        Assert.Equal(HttpStatusCode.BadRequest, afterReuse.StatusCode);
        Assert.Equal("invalid_grant", (await afterReuse.ReadOAuthErrorAsync()).Error);
    }

    [Fact]
    public async Task OtherSignInsOfTheSameUserSurviveAReuse()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var stolen = await app.SignInAsync(userName, password);
        var otherDevice = await app.SignInAsync(userName, password);
        await app.RefreshAsync(stolen.RefreshToken);

        using var reuse = await app.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", stolen.RefreshToken));

        Assert.Equal(HttpStatusCode.BadRequest, reuse.StatusCode);
        await app.RefreshAsync(otherDevice.RefreshToken);
    }

    [Fact]
    public async Task AnUnknownRefreshTokenIsInvalidGrant()
    {
        using var response = await app.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", "not-a-token"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(("invalid_grant", "The refresh token is invalid, expired or revoked."), await response.ReadOAuthErrorAsync());
    }

    [Fact]
    public async Task RevokingARefreshTokenEndsItsFamily()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var first = await app.SignInAsync(userName, password);
        var second = await app.RefreshAsync(first.RefreshToken);

        using var revoke = await app.CreateClient().PostAsync("/token/revoke", RealtimeApplication.Form(("token", second.RefreshToken)));
        using var refresh = await app.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", second.RefreshToken));

        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        Assert.Equal("no-store", revoke.Headers.CacheControl?.ToString());
        Assert.Equal(HttpStatusCode.BadRequest, refresh.StatusCode);
        Assert.Equal("invalid_grant", (await refresh.ReadOAuthErrorAsync()).Error);
    }

    [Fact]
    public async Task RevokingAnUnknownTokenStillAnswersOk()
    {
        using var response = await app.CreateClient().PostAsync("/token/revoke", RealtimeApplication.Form(("token", "never-issued")));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task RevokeWithoutATokenIsInvalidRequest()
    {
        using var response = await app.CreateClient().PostAsync("/token/revoke", RealtimeApplication.Form(("token_type_hint", "refresh_token")));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(("invalid_request", "The 'token' parameter is missing."), await response.ReadOAuthErrorAsync());
    }

    [Fact]
    public async Task FiveWrongPasswordsLockTheAccountEvenAgainstTheRightOne()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        for (var i = 0; i < 5; i++)
        {
            using var wrong = await app.PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", "wrong password " + i));
            Assert.Equal(HttpStatusCode.BadRequest, wrong.StatusCode);
        }

        using var locked = await app.PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", password));

        Assert.Equal(HttpStatusCode.BadRequest, locked.StatusCode);
        Assert.Equal(("invalid_grant", "The username or password is incorrect."), await locked.ReadOAuthErrorAsync());
    }

    [Fact]
    public async Task TheLockoutLastsFiveMinutes()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        for (var i = 0; i < 5; i++)
        {
            (await app.PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", "wrong password " + i))).Dispose();
        }

        DateTimeOffset? lockoutEnd = null;
        await app.ChangeUserAsync(userName, async (users, user) =>
        {
            lockoutEnd = await users.GetLockoutEndDateAsync(user);
            // Let the lockout run out rather than wait five minutes.
            return await users.SetLockoutEndDateAsync(user, DateTimeOffset.UtcNow.AddSeconds(-1));
        });

        Assert.NotNull(lockoutEnd);
        Assert.InRange(lockoutEnd.Value - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(4.5), TimeSpan.FromMinutes(5));
        await app.SignInAsync(userName, password);
    }

    [Fact]
    public async Task ADisabledUserCannotSignIn()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        await app.ChangeUserAsync(userName, (users, user) =>
        {
            user.IsDisabled = true;
            return users.UpdateAsync(user);
        });

        using var response = await app.PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", password));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(("invalid_grant", "The username or password is incorrect."), await response.ReadOAuthErrorAsync());
    }

    [Fact]
    public async Task ADisabledUserCannotRefresh()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);
        await app.ChangeUserAsync(userName, (users, user) =>
        {
            user.IsDisabled = true;
            return users.UpdateAsync(user);
        });

        using var response = await app.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", tokens.RefreshToken));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("invalid_grant", (await response.ReadOAuthErrorAsync()).Error);
    }

}

using System.Net;
using System.Net.Http.Json;
using Company.RealtimeApp1.Organizations;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Hosting;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Company.RealtimeApp1.Tests;

/// <summary>A socket never outlives the authority it was opened with: expiry, refresh, revocation, shutdown.</summary>
public sealed class SocketLifecycleTests
{
    [Fact]
    public async Task ASocketIsWarnedBeforeItsTokenExpiresThenClosedWith4001()
    {
        using var app = RealtimeApplication.With(new() { ["WebSockets:ExpiryWarning"] = "00:00:02" });
        var (userName, _) = await app.SignInNewUserAsync();
        var token = await app.ForgeAsync(userName, expires: DateTime.UtcNow.AddSeconds(4));
        var expiresAt = new JsonWebToken(token).ValidTo;

        await using var socket = await app.ConnectAsync(EchoConsumer.Path, token);
        await socket.ReceiveJsonAsync("welcome");
        var expiring = await socket.ReceiveJsonAsync("auth.expiring");
        var close = await socket.ReceiveCloseAsync();

        Assert.Equal(expiresAt, expiring.GetProperty("expiresAt").GetDateTimeOffset().UtcDateTime);
        Assert.Equal((4001, "token expired"), close);
    }

    [Fact]
    public async Task WithOneMinuteTokensASocketIsWarnedAcceptsARefreshAndAnUnrefreshedOneClosesAtExpiry()
    {
        // The app as `dotnet new wsauth --token-minutes 1` makes it, with the warning moved early so the test is short.
        using var app = RealtimeApplication.With(new()
        {
            ["Jwt:AccessTokenMinutes"] = "1",
            ["WebSockets:ExpiryWarning"] = "00:00:57",
        });
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);
        await using var refreshing = await app.ConnectAsync(EchoConsumer.Path, tokens.AccessToken);
        await using var lapsing = await app.ConnectAsync(EchoConsumer.Path, tokens.AccessToken);
        await refreshing.ReceiveJsonAsync("welcome");
        await lapsing.ReceiveJsonAsync("welcome");

        await refreshing.ReceiveJsonAsync("auth.expiring");
        var renewed = await app.RefreshAsync(tokens.RefreshToken);
        await refreshing.SendJsonAsync(new { type = "auth.refresh", access_token = renewed.AccessToken });
        await refreshing.ReceiveJsonAsync("auth.refreshed");
        await lapsing.ReceiveJsonAsync("auth.expiring");

        var started = DateTime.UtcNow;
        var close = await ReceiveCloseWithinAsync(lapsing, TimeSpan.FromSeconds(70));

        Assert.Equal(60, tokens.ExpiresIn);
        Assert.Equal((4001, "token expired"), close);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(65));
        // The refreshed socket lives on, and is warned again before its new token expires.
        var warnedAgain = await refreshing.ReceiveJsonAsync("auth.expiring");
        Assert.Equal(new JsonWebToken(renewed.AccessToken).ValidTo, warnedAgain.GetProperty("expiresAt").GetDateTimeOffset().UtcDateTime);
        await refreshing.SendJsonAsync(new { type = "ping" });
        await refreshing.ReceiveJsonAsync("pong");
    }

    [Fact]
    public async Task RefreshingWithANewTokenOfTheSameUserKeepsTheSocketOpen()
    {
        using var app = RealtimeApplication.With(new() { ["WebSockets:ExpiryWarning"] = "00:00:02" });
        var (userName, password) = await app.CreateUniqueUserAsync();
        var fresh = (await app.SignInAsync(userName, password)).AccessToken;
        var shortLived = await app.ForgeAsync(userName, expires: DateTime.UtcNow.AddSeconds(4));

        await using var socket = await app.ConnectAsync(EchoConsumer.Path, shortLived);
        await socket.ReceiveJsonAsync("welcome");
        await socket.SendJsonAsync(new { type = "auth.refresh", access_token = fresh });
        var refreshed = await socket.ReceiveJsonAsync("auth.refreshed");

        Assert.Equal(new JsonWebToken(fresh).ValidTo, refreshed.GetProperty("expiresAt").GetDateTimeOffset().UtcDateTime);
        Assert.True(await socket.ReceivesNothingWithinAsync(TimeSpan.FromSeconds(4)), "The refreshed socket was warned or closed.");
        await socket.SendJsonAsync(new { type = "ping", id = 1 });
        await socket.ReceiveJsonAsync("pong");
    }

    [Fact]
    public async Task RefreshingWithAnotherUsersTokenIsRefusedAndTheSocketStillExpires()
    {
        using var app = RealtimeApplication.With(new() { ["WebSockets:ExpiryWarning"] = "00:00:01" });
        var (userName, _) = await app.SignInNewUserAsync();
        var (_, otherUsersToken) = await app.SignInNewUserAsync();
        var shortLived = await app.ForgeAsync(userName, expires: DateTime.UtcNow.AddSeconds(3));

        await using var socket = await app.ConnectAsync(EchoConsumer.Path, shortLived);
        await socket.ReceiveJsonAsync("welcome");
        await socket.SendJsonAsync(new { type = "auth.refresh", access_token = otherUsersToken });
        var error = await socket.ReceiveJsonAsync("error");
        await socket.ReceiveJsonAsync("auth.expiring");

        Assert.Equal("invalid_refresh", error.GetProperty("code").GetString());
        Assert.Equal("The access token is invalid, expired, or belongs to another user.", error.GetProperty("detail").GetString());
        Assert.Equal((4001, "token expired"), await socket.ReceiveCloseAsync());
    }

    [Fact]
    public async Task RefreshingWithAnInvalidTokenIsInvalidRefresh()
    {
        using var app = new RealtimeApplication();
        var (userName, token) = await app.SignInNewUserAsync();
        var wrongKey = await app.ForgeAsync(userName, key: new string('k', 64));

        await using var socket = await app.ConnectAsync(EchoConsumer.Path, token);
        await socket.ReceiveJsonAsync("welcome");
        await socket.SendJsonAsync(new { type = "auth.refresh", access_token = wrongKey });
        var error = await socket.ReceiveJsonAsync("error");
        await socket.SendJsonAsync(new { type = "auth.refresh" });
        var missing = await socket.ReceiveJsonAsync("error");

        Assert.Equal("invalid_refresh", error.GetProperty("code").GetString());
        Assert.Equal("invalid_message", missing.GetProperty("code").GetString());
        Assert.Equal("An 'auth.refresh' message needs 'access_token': a string.", missing.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("password changed")]
    [InlineData("disabled")]
    [InlineData("deleted")]
    public async Task WithdrawingAUsersCredentialsClosesTheirSocketsWith4001(string change)
    {
        using var app = new RealtimeApplication();
        var (userName, password) = await app.CreateUniqueUserAsync();
        var token = (await app.SignInAsync(userName, password)).AccessToken;
        await using var first = await app.ConnectAsync(EchoConsumer.Path, token);
        await using var second = await app.ConnectAsync(EchoConsumer.Path, token);
        await first.ReceiveJsonAsync("welcome");
        await second.ReceiveJsonAsync("welcome");

        await app.ChangeUserAsync(userName, (users, user) => change switch
        {
            "password changed" => users.ChangePasswordAsync(user, password, "an entirely new passphrase"),
            "disabled" => Disable(users, user),
            _ => users.DeleteAsync(user),
        });

        var expected = (4001, change == "deleted" ? "user deleted" : "credentials changed");
        Assert.Equal(expected, await first.ReceiveCloseAsync());
        Assert.Equal(expected, await second.ReceiveCloseAsync());
    }

    [Fact]
    public async Task RevokingTheRefreshFamilyClosesTheUsersSocketsWith4001()
    {
        using var app = new RealtimeApplication();
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);
        await using var socket = await app.ConnectAsync(EchoConsumer.Path, tokens.AccessToken);
        await socket.ReceiveJsonAsync("welcome");

        using var revoke = await app.CreateClient().PostAsync("/token/revoke", RealtimeApplication.Form(("token", tokens.RefreshToken)));

        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        Assert.Equal((4001, "sign-in revoked"), await socket.ReceiveCloseAsync());
    }

    [Fact]
    public async Task SigningInAgainOrMistypingAPasswordLeavesOpenSocketsAlone()
    {
        using var app = new RealtimeApplication();
        var (userName, password) = await app.CreateUniqueUserAsync();
        var token = (await app.SignInAsync(userName, password)).AccessToken;
        await using var socket = await app.ConnectAsync(EchoConsumer.Path, token);
        await socket.ReceiveJsonAsync("welcome");

        (await app.PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", "a typo in it"))).Dispose();
        await app.SignInAsync(userName, password);

        Assert.True(await socket.ReceivesNothingWithinAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task StoppingTheApplicationClosesEverySocketWith1001()
    {
        using var app = new RealtimeApplication();
        var (_, token) = await app.SignInNewUserAsync();
        await using var socket = await app.ConnectAsync(EchoConsumer.Path, token);
        await socket.ReceiveJsonAsync("welcome");

        app.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

        Assert.Equal((1001, "server shutting down"), await socket.ReceiveCloseAsync());
    }

    private static async Task<(int Code, string? Reason)> ReceiveCloseWithinAsync(TestSocket socket, TimeSpan wait)
    {
        var deadline = DateTime.UtcNow + wait;
        while (DateTime.UtcNow < deadline)
        {
            if (!await socket.ReceivesNothingWithinAsync(TimeSpan.FromSeconds(5)))
            {
                return await socket.ReceiveCloseAsync();
            }
        }

        throw new TimeoutException("The socket was not closed in time.");
    }


    private static async Task<IdentityResult> Disable(UserManager<Users.User> users, Users.User user)
    {
        user.IsDisabled = true;
        return await users.UpdateAsync(user);
    }
}

using System.Net;
using Company.RealtimeApp1.Organizations;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Company.RealtimeApp1.Tests;

public sealed class HandshakeAuthenticationTests(RealtimeApplication app) : IClassFixture<RealtimeApplication>
{
    private const string Path = EchoConsumer.Path;

    [Fact]
    public async Task AnAuthorizationHeaderOpensTheSocket()
    {
        var (userName, token) = await app.SignInNewUserAsync();

        await using var socket = await app.ConnectAsync(Path, token);

        await AssertWelcomedAsync(socket, userName);
    }

    [Theory]
    [InlineData("access_token")]
    [InlineData("token")]
    public async Task AQueryStringTokenOpensTheSocket(string parameter)
    {
        var (userName, token) = await app.SignInNewUserAsync();

        await using var socket = await app.ConnectAsync($"{Path}?{parameter}={token}");

        await AssertWelcomedAsync(socket, userName);
    }

    [Fact]
    public async Task ABearerSubprotocolOpensTheSocketAndTheServerSelectsOnlyTheVersion()
    {
        var (userName, token) = await app.SignInNewUserAsync();

        await using var socket = await app.ConnectAsync(Path, options =>
        {
            options.CollectHttpResponseDetails = true;
            options.AddSubProtocol(Handshakes.AuthSubProtocol);
            options.AddSubProtocol("bearer." + token);
        });

        await AssertWelcomedAsync(socket, userName);
        Assert.Equal(Handshakes.AuthSubProtocol, socket.SubProtocol);
        Assert.Equal([Handshakes.AuthSubProtocol], socket.Socket.HttpResponseHeaders!["Sec-WebSocket-Protocol"]);
        Assert.DoesNotContain(socket.Socket.HttpResponseHeaders!, header => header.Value.Any(value => value.Contains(token, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task TheSameTokenSentTwiceIsOneCredential()
    {
        var (userName, token) = await app.SignInNewUserAsync();

        await using var socket = await app.ConnectAsync($"{Path}?access_token={token}", options =>
        {
            options.SetRequestHeader("Authorization", "Bearer " + token);
            options.AddSubProtocol(Handshakes.AuthSubProtocol);
            options.AddSubProtocol("bearer." + token);
        });

        await AssertWelcomedAsync(socket, userName);
    }

    [Fact]
    public async Task WithoutACredentialTheSocketIsToldMissingTokenAndClosedWith4001()
    {
        await using var socket = await app.ConnectAsync(Path);

        await socket.AssertRefusedAsync(401, "missing_token",
            "No credential was sent: use an Authorization header, ?access_token=, ?ticket=, the bearer.<token> subprotocol or the session cookie.");
    }

    [Fact]
    public async Task AGarbageTokenIsInvalidToken()
    {
        await using var socket = await app.ConnectAsync($"{Path}?access_token=not-a-jwt");

        await socket.AssertRefusedAsync(401, "invalid_token", "The access token is malformed.");
    }

    [Fact]
    public async Task AnUnsignedTokenIsInvalidToken()
    {
        var (_, token) = await app.SignInNewUserAsync();
        var unsigned = $"{Base64UrlEncoder.Encode("""{"alg":"none","typ":"JWT"}""")}.{new JsonWebToken(token).EncodedPayload}.";

        await using var socket = await app.ConnectAsync($"{Path}?access_token={unsigned}");

        await socket.AssertRefusedAsync(401, "invalid_token", "The access token's signature is not valid.");
    }

    [Fact]
    public async Task ATokenSignedWithAnotherKeyIsInvalidToken()
    {
        var (userName, _) = await app.SignInNewUserAsync();

        await using var socket = await app.ConnectAsync(Path, await app.ForgeAsync(userName, key: new string('k', 64)));

        await socket.AssertRefusedAsync(401, "invalid_token", "The access token's signature is not valid.");
    }

    [Fact]
    public async Task AnExpiredTokenIsTokenExpired()
    {
        var (userName, _) = await app.SignInNewUserAsync();

        // Five minutes ago: well beyond the 30 s clock skew.
        await using var socket = await app.ConnectAsync(Path, await app.ForgeAsync(userName, expires: DateTime.UtcNow.AddMinutes(-5)));

        await socket.AssertRefusedAsync(401, "token_expired", "The access token has expired.");
    }

    [Fact]
    public async Task ATokenForAnotherAudienceIsInvalidToken()
    {
        var (userName, _) = await app.SignInNewUserAsync();

        await using var socket = await app.ConnectAsync(Path, await app.ForgeAsync(userName, audience: "someone-else"));

        await socket.AssertRefusedAsync(401, "invalid_token", "The access token was issued for another audience.");
    }

    [Fact]
    public async Task ATokenFromAnotherIssuerIsInvalidToken()
    {
        var (userName, _) = await app.SignInNewUserAsync();

        await using var socket = await app.ConnectAsync(Path, await app.ForgeAsync(userName, issuer: "someone-else"));

        await socket.AssertRefusedAsync(401, "invalid_token", "The access token was issued by another issuer.");
    }

    [Fact]
    public async Task ADeletedUsersTokenIsInvalidToken()
    {
        var (userName, token) = await app.SignInNewUserAsync();
        await app.ChangeUserAsync(userName, (users, user) => users.DeleteAsync(user));

        await using var socket = await app.ConnectAsync($"{Path}?access_token={token}");

        await socket.AssertRefusedAsync(401, "invalid_token", "The token's user no longer exists, is disabled, or has changed their credentials.");
    }

    [Fact]
    public async Task TwoDifferentCredentialsAreRefused()
    {
        var (_, mine) = await app.SignInNewUserAsync();
        var (_, theirs) = await app.SignInNewUserAsync();

        await using var socket = await app.ConnectAsync($"{Path}?access_token={theirs}", mine);

        await socket.AssertRefusedAsync(401, "invalid_token", "Only one credential may be sent, and this request carried more than one.");
    }

    [Fact]
    public async Task ABearerSubprotocolWithoutTheVersionSubprotocolIsRefused()
    {
        var (_, token) = await app.SignInNewUserAsync();

        await using var socket = await app.ConnectAsync(Path, options => options.AddSubProtocol("bearer." + token));

        await socket.AssertRefusedAsync(401, "invalid_token", "A bearer.<token> subprotocol must be offered together with wsauth.v1.");
        Assert.Null(socket.SubProtocol);
    }

    [Fact]
    public async Task WithRejectWithHttpStatusAMissingCredentialIsA401BeforeTheUpgrade()
    {
        using var httpStatusApp = RealtimeApplication.With(new() { ["WebSockets:RejectWith"] = "HttpStatus" });

        var (status, headers) = await httpStatusApp.ConnectRefusedAsync(Path);

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal(["Bearer"], headers["WWW-Authenticate"]);
    }

    [Fact]
    public async Task WithRejectWithHttpStatusAnInvalidTokenIsA401NamingInvalidToken()
    {
        using var httpStatusApp = RealtimeApplication.With(new() { ["WebSockets:RejectWith"] = "HttpStatus" });

        var (status, headers) = await httpStatusApp.ConnectRefusedAsync($"{Path}?access_token=not-a-jwt");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.StartsWith("Bearer error=\"invalid_token\"", Assert.Single(headers["WWW-Authenticate"]));
    }

    private static async Task AssertWelcomedAsync(TestSocket socket, string userName)
    {
        var welcome = await socket.ReceiveJsonAsync("welcome");
        Assert.Equal(userName, welcome.GetProperty("user").GetProperty("username").GetString());
    }
}

using Company.RealtimeApp1.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Company.RealtimeApp1.Tests;

public sealed class CredentialLoggingTests
{
    [Fact]
    public async Task NoPasswordOrTokenReachesAnyLogAtAnyLevel()
    {
        using var app = new RealtimeApplication();
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);
        var refreshed = await app.RefreshAsync(tokens.RefreshToken);
        (await app.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", tokens.RefreshToken))).Dispose();
        (await app.PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", password + "-typo"))).Dispose();
        (await app.CreateClient(refreshed.AccessToken).GetAsync("/me")).Dispose();
        (await app.CreateClient().GetAsync($"/me?access_token={refreshed.AccessToken}&token={refreshed.RefreshToken}")).Dispose();
        (await app.CreateClient().GetAsync($"/token?password={password}&refresh_token={refreshed.RefreshToken}")).Dispose();
        (await app.CreateClient("garbage." + refreshed.AccessToken).GetAsync("/me")).Dispose();

        var records = app.Logs.GetSnapshot();

        Assert.Contains(records, r => r.Message.Contains("/me?access_token=" + CredentialRedaction.Mask, StringComparison.Ordinal));
        string[] secrets = [password, tokens.AccessToken, tokens.RefreshToken, refreshed.AccessToken, refreshed.RefreshToken];
        foreach (var record in records)
        {
            foreach (var text in Texts(record))
            {
                foreach (var secret in secrets)
                {
                    Assert.False(text.Contains(secret, StringComparison.Ordinal), $"A credential was logged by {record.Category}: {Redacted(text, secrets)}");
                }
            }
        }
    }

    [Theory]
    [InlineData("GET /ws/chat?access_token=abc.def&x=1", "GET /ws/chat?access_token=[redacted]&x=1")]
    [InlineData("GET /ws?token=abc&ticket=K123", "GET /ws?token=[redacted]&ticket=[redacted]")]
    [InlineData("Authorization: Bearer abc.def-ghi", "Authorization: Bearer [redacted]")]
    [InlineData("Sec-WebSocket-Protocol: wsauth.v1, bearer.eyJa.eyJb.sig", "Sec-WebSocket-Protocol: wsauth.v1, bearer.[redacted]")]
    [InlineData("token eyJhbGciOi.eyJzdWIi.c2lnbmF0dXJl in text", "token [redacted] in text")]
    [InlineData("GET /me?sort=name", "GET /me?sort=name")]
    [InlineData("tokens=3 issued", "tokens=3 issued")]
    public void CredentialsAreMaskedAndOtherTextIsKept(string text, string expected)
    {
        Assert.Equal(expected, CredentialRedaction.Redact(text));
    }

    [Theory]
    [InlineData("GET /ws/chat?%74icket=K1", "GET /ws/chat?%74icket=[redacted]")]
    [InlineData("GET /ws/chat?ticke%74=K1&x=1", "GET /ws/chat?ticke%74=[redacted]&x=1")]
    [InlineData("GET /me?%61%63%63%65%73%73%5F%74%6F%6B%65%6E=abc", "GET /me?%61%63%63%65%73%73%5F%74%6F%6B%65%6E=[redacted]")]
    [InlineData("GET /me?access%5Ftoken=abc", "GET /me?access%5Ftoken=[redacted]")]
    [InlineData("GET /me?access%5ftoken=abc", "GET /me?access%5ftoken=[redacted]")]
    [InlineData("GET /me?ACCESS_TOKEN=abc", "GET /me?ACCESS_TOKEN=[redacted]")]
    [InlineData("POST /token?pass%77ord=P", "POST /token?pass%77ord=[redacted]")]
    [InlineData("POST /token?client_secret=S&client%5Fsecret=T", "POST /token?client_secret=[redacted]&client%5Fsecret=[redacted]")]
    [InlineData("GET /ws?ticket=a+b%2Bc", "GET /ws?ticket=[redacted]")]
    [InlineData("GET /me?sort%3Dname=x&tickets=2&my+ticket=3", "GET /me?sort%3Dname=x&tickets=2&my+ticket=3")]
    [InlineData("POST /token?password=pa;ss,wo'rd\"!&x=1", "POST /token?password=[redacted]&x=1")]
    [InlineData("Cookie: wsauth_session=eyJ.x;theme=dark; token=T2", "Cookie: wsauth_session=[redacted];theme=dark; token=[redacted]")]
    public void ParametersAreRecognisedByTheirDecodedNameAsTheAppReadsThem(string text, string expected)
    {
        Assert.Equal(expected, CredentialRedaction.Redact(text));
    }

    [Theory]
    [InlineData("Bearer was not authenticated. Failure message: IDX10503: Signature validation failed.")]
    [InlineData("AuthenticationScheme: Bearer was challenged.")]
    [InlineData("AuthenticationScheme: Bearer was forbidden.")]
    public void FrameworkMessagesAboutTheBearerSchemeAreKept(string text)
    {
        Assert.Equal(text, CredentialRedaction.Redact(text));
    }

    [Theory]
    [InlineData("Authorization: Bearer not-a-real-token", "Authorization: Bearer [redacted]")]
    [InlineData("Authorization: Bearer eyJhbGciOi.eyJzdWIi.c2ln", "Authorization: Bearer [redacted]")]
    [InlineData("Authorization: Bearer Zm9vYmFyYmF6cXV4cXV1eA==", "Authorization: Bearer [redacted]")]
    [InlineData("Authorization: Bearer abcdefghijklmnopqrstuvwxyzabcdefghij", "Authorization: Bearer [redacted]")]
    [InlineData("Sec-WebSocket-Protocol: bearer.was", "Sec-WebSocket-Protocol: bearer.[redacted]")]
    public void EveryBearerCredentialIsStillMasked(string text, string expected)
    {
        Assert.Equal(expected, CredentialRedaction.Redact(text));
    }

    [Fact]
    public async Task NoCredentialUnderAPercentEncodedParameterNameReachesAnyLog()
    {
        using var app = new RealtimeApplication();
        var (userName, password) = await app.CreateUniqueUserAsync();
        var token = (await app.SignInAsync(userName, password)).AccessToken;
        var ticket = await IssueTicketAsync(app, token);
        string[] secrets = ["secret-one-" + Guid.NewGuid().ToString("N"), "secret-two-" + Guid.NewGuid().ToString("N"), "secret-three-" + Guid.NewGuid().ToString("N")];

        // The app reads these by their decoded names, so each is a real credential on the wire.
        foreach (var query in (string[])[$"ticke%74={ticket}", $"access%5Ftoken={token}"])
        {
            using var socket = new System.Net.WebSockets.ClientWebSocket();
            using var timeout = new CancellationTokenSource(TestSocket.Timeout);
            await socket.ConnectAsync(Handshakes.Verbatim(app.WebSocketUri(EchoConsumer.Path + "?" + query)), timeout.Token);
            await using var connected = new TestSocket(socket);
            await connected.ReceiveJsonAsync("welcome");
        }

        var client = app.CreateClient();
        (await client.GetAsync(Handshakes.Verbatim(new Uri(app.ServerAddress, $"/me?%74icket={secrets[0]}")))).Dispose();
        (await client.GetAsync(Handshakes.Verbatim(new Uri(app.ServerAddress, $"/me?%61%63%63%65%73%73%5F%74%6F%6B%65%6E={secrets[1]}")))).Dispose();
        (await client.GetAsync(Handshakes.Verbatim(new Uri(app.ServerAddress, $"/me?Access%5FToken={secrets[2]}+{secrets[2]}")))).Dispose();

        AssertNotLogged(app, [.. secrets, token, ticket]);
    }

    [Theory]
    [InlineData("/token", "pass%77ord")]
    [InlineData("/token", "PASSWORD")]
    [InlineData("/token", "refresh%5Ftoken")]
    [InlineData("/token", "client_secret")]
    [InlineData("/token/revoke", "password")]
    [InlineData("/token/revoke", "client%5Fsecret")]
    public async Task ACredentialInTheTokenEndpointsQueryStringIsRefusedAndNotLogged(string path, string name)
    {
        using var app = new RealtimeApplication();
        var (userName, password) = await app.CreateUniqueUserAsync();
        var secret = "query-secret-" + Guid.NewGuid().ToString("N");

        using var response = await app.CreateClient().PostAsync(
            Handshakes.Verbatim(new Uri(app.ServerAddress, $"{path}?{name}={secret}")),
            RealtimeApplication.Form(("grant_type", "password"), ("username", userName), ("password", password), ("token", "x")));

        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Equal("no-cache", response.Headers.Pragma.ToString());
        var (error, description) = await response.ReadOAuthErrorAsync();
        Assert.Equal("invalid_request", error);
        Assert.Equal("Credentials belong in the form body, not in the query string.", description);
        AssertNotLogged(app, [secret]);
    }

    private static void AssertNotLogged(RealtimeApplication app, string[] secrets)
    {
        foreach (var record in app.Logs.GetSnapshot())
        {
            foreach (var text in Texts(record))
            {
                foreach (var secret in secrets)
                {
                    Assert.False(text.Contains(secret, StringComparison.Ordinal), $"A credential was logged by {record.Category}: {Redacted(text, secrets)}");
                }
            }
        }
    }

    private static async Task<string> IssueTicketAsync(RealtimeApplication app, string accessToken)
    {
        using var response = await app.CreateClient(accessToken).PostAsync("/ws/ticket", null);
        return (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<System.Text.Json.JsonElement>(response.Content)).GetProperty("ticket").GetString()!;
    }

    private static IEnumerable<string> Texts(FakeLogRecord record)
    {
        yield return record.Message;
        foreach (var (_, value) in record.StructuredState ?? [])
        {
            if (value is not null)
            {
                yield return value;
            }
        }

        if (record.Exception is not null)
        {
            yield return record.Exception.ToString();
        }
    }

    private static string Redacted(string text, string[] secrets) =>
        secrets.Aggregate(text, (current, secret) => current.Replace(secret, "<secret>", StringComparison.Ordinal));

}

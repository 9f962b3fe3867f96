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
        var refreshed = await RefreshAsync(app, tokens.RefreshToken);
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
    [InlineData("GET /ws/notifications?access_token=abc.def&x=1", "GET /ws/notifications?access_token=[redacted]&x=1")]
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

    private static async Task<TokenPair> RefreshAsync(RealtimeApplication app, string refreshToken)
    {
        using var response = await app.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", refreshToken));
        return (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<TokenPair>(response.Content))!;
    }
}

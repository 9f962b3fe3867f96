using Company.RealtimeApp1.Diagnostics;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Company.RealtimeApp1.Tests;

public sealed class HandshakeCredentialLoggingTests
{
    [Fact]
    public async Task NoHandshakeCredentialReachesAnyLogAtAnyLevel()
    {
        using var app = new RealtimeApplication();
        var (userName, password) = await app.CreateUniqueUserAsync();
        var token = (await app.SignInAsync(userName, password)).AccessToken;
        var ticket = await app.IssueTicketAsync(token);
        using var session = await app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false, BaseAddress = app.ServerAddress })
            .PostAsync("/session", RealtimeApplication.Form(("username", userName), ("password", password)));
        var cookie = session.CookiePair(Handshakes.SessionCookie);
        var refreshCookie = session.CookiePair(Handshakes.RefreshCookie);

        await using (var byQuery = await app.ConnectAsync($"{EchoConsumer.Path}?access_token={token}&token={token}"))
        {
            await byQuery.ReceiveJsonAsync("welcome");
        }

        await using (var byTicket = await app.ConnectAsync($"{EchoConsumer.Path}?ticket={ticket}"))
        {
            await byTicket.ReceiveJsonAsync("welcome");
        }

        await using (var reusedTicket = await app.ConnectAsync($"{EchoConsumer.Path}?ticket={ticket}"))
        {
            await reusedTicket.ReceiveJsonAsync("auth");
        }

        await using (var bySubProtocol = await app.ConnectAsync(EchoConsumer.Path, options =>
        {
            options.AddSubProtocol(Handshakes.AuthSubProtocol);
            options.AddSubProtocol("bearer." + token);
        }))
        {
            await bySubProtocol.ReceiveJsonAsync("welcome");
        }

        await using (var byCookie = await app.ConnectAsync(EchoConsumer.Path, options =>
        {
            options.SetRequestHeader("Cookie", cookie);
            options.SetRequestHeader("Origin", app.OwnOrigin());
        }))
        {
            await byCookie.ReceiveJsonAsync("welcome");
        }

        // The refresh cookie, where a browser sends it: renewing the session.
        using (var renew = new HttpRequestMessage(HttpMethod.Post, "/session/refresh"))
        {
            renew.Headers.Add("Cookie", refreshCookie);
            renew.Headers.Add("Origin", app.OwnOrigin());
            using var renewed = await app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false, BaseAddress = app.ServerAddress }).SendAsync(renew);
            Assert.Equal(System.Net.HttpStatusCode.OK, renewed.StatusCode);
        }

        await using (var garbage = await app.ConnectAsync(EchoConsumer.Path + "?access_token=garbage." + token))
        {
            await garbage.ReceiveJsonAsync("auth");
        }

        (await app.CreateClient().GetAsync($"/me?ticket={ticket}&access_token={token}")).Dispose();

        var records = app.Logs.GetSnapshot();

        Assert.Contains(records, r => r.Message.Contains(EchoConsumer.Path + "?ticket=" + CredentialRedaction.Mask, StringComparison.Ordinal));
        string[] secrets = [token, ticket, cookie["wsauth_session=".Length..], refreshCookie["wsauth_refresh=".Length..], password];
        foreach (var record in records)
        {
            var texts = new List<string> { record.Message };
            texts.AddRange((record.StructuredState ?? []).Select(pair => pair.Value).OfType<string>());
            if (record.Exception is not null)
            {
                texts.Add(record.Exception.ToString());
            }

            foreach (var text in texts)
            {
                Assert.DoesNotContain(secrets, secret => text.Contains(secret, StringComparison.Ordinal));
            }
        }
    }

    [Theory]
    [InlineData("Cookie: wsauth_session=abc.def-ghi; theme=dark", "Cookie: wsauth_session=[redacted]; theme=dark")]
    [InlineData("Set-Cookie: wsauth_session=abc; max-age=900; path=/", "Set-Cookie: wsauth_session=[redacted]; max-age=900; path=/")]
    [InlineData("Cookie: theme=dark; wsauth_refresh=r3fr-esh_; wsauth_session=abc", "Cookie: theme=dark; wsauth_refresh=[redacted]; wsauth_session=[redacted]")]
    [InlineData("Set-Cookie: wsauth_refresh=r3fr-esh_; max-age=1209600; path=/session", "Set-Cookie: wsauth_refresh=[redacted]; max-age=1209600; path=/session")]
    public void TheSessionCookieIsMasked(string text, string expected)
    {
        Assert.Equal(expected, CredentialRedaction.Redact(text));
    }
}

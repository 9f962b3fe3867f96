namespace Company.RealtimeApp1.Tests.Browser;

/// <summary>
/// With one-minute access tokens, the page refreshes on <c>auth.expiring</c> and its sockets outlive the first
/// token. A class of its own, so that its minute runs beside the other browser tests.
/// </summary>
public sealed class BrowserTokenRefreshTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task WithOneMinuteTokensThePageStaysConnectedPastTheFirstTokensExpiry()
    {
        await using var server = await DevelopmentServer.StartAsync(new()
        {
            ["Jwt:AccessTokenMinutes"] = "1",
            ["WebSockets:ExpiryWarning"] = "00:00:20",
        });
        var (bob, _) = await server.MeAsync(await server.SignInAsync("bob"));
        await using var browser = await BrowserPage.OpenAsync(chromium, server);

        await browser.RunAsync(async () =>
        {
            var signedIn = DateTime.UtcNow;
            await browser.SignInAsync("bob", "notifications", "org-acme");

            // auth.expiring about 40 s in: the page refreshes the token and hands it to both sockets.
            await browser.Stream("notifications").ExpectAttributeAsync("data-refreshes", "1", TimeSpan.FromSeconds(90));
            await browser.Stream("org-acme").ExpectAttributeAsync("data-refreshes", "1", TimeSpan.FromSeconds(30));

            // Past the first token's expiry (a minute after the sign-in, plus a margin).
            var expired = signedIn + TimeSpan.FromSeconds(65);
            if (expired > DateTime.UtcNow)
            {
                await Task.Delay(expired - DateTime.UtcNow);
            }

            var alice = await server.SignInAsync("alice"); // tokens last a minute
            await server.NotifyAsync(alice, bob, "After", "the first token expired");
            await browser.Notifications.ExpectTextsAsync("After: the first token expired");
            await browser.ExpectStateAsync("notifications", "open");
            await browser.ExpectStateAsync("org-acme", "open");
            // Never closed (no 4001), never reconnected: the two sockets of the sign-in (on the session cookie: no ticket).
            await browser.Stream("notifications").ExpectNoAttributeValueAsync("data-last-close");
            await browser.Stream("org-acme").ExpectNoAttributeValueAsync("data-last-close");
            Assert.Equal(2, browser.SocketPaths.Count);
            Assert.Equal(0, browser.TicketRequests);
        });
    }
}

using PuppeteerSharp;

namespace Company.RealtimeApp1.Tests.Browser;

/// <summary>
/// The page's browser session: a reload, and new tabs, are still signed in with the HttpOnly cookies and no token in
/// storage; signing out ends the session for every tab.
/// </summary>
public sealed class BrowserSessionTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task AReloadedPageAndNewTabsStaySignedInWithTheSessionCookieUntilSignOut()
    {
        await using var server = await DevelopmentServer.StartAsync();
        var alice = await server.SignInAsync("alice");
        var (bob, _) = await server.MeAsync(await server.SignInAsync("bob"));
        await using var browser = await BrowserPage.OpenAsync(chromium, server);
        var page = browser.Page;

        await browser.RunAsync(async () =>
        {
            await browser.SignInAsync("bob", "notifications", "org-acme");
            await server.NotifyAsync(alice, bob, "Before", "the reload");
            await browser.Notifications.ExpectTextsAsync("Before: the reload");

            // Two HttpOnly, SameSite=Strict cookies; nothing in storage, nothing a script can read.
            var cookies = (await browser.CookiesAsync()).OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
            Assert.Equal([("wsauth_refresh", "/session"), ("wsauth_session", "/")], cookies.Select(c => (c.Name, c.Path)));
            Assert.All(cookies, c => Assert.True(c.HttpOnly == true && c.SameSite == SameSite.Strict, $"{c.Name} is not HttpOnly and SameSite=Strict"));
            Assert.Equal(0, await page.EvaluateExpressionAsync<int>("localStorage.length + sessionStorage.length"));
            Assert.Equal("", await page.EvaluateExpressionAsync<string>("document.cookie"));

            await page.ReloadAsync();

            await page.TestId("me").ExpectTextAsync("Signed in as bob");
            await page.TestId("signin-section").ExpectHiddenAsync();
            await browser.ExpectStateAsync("notifications", "open");
            await browser.ExpectStateAsync("org-acme", "open");
            await server.NotifyAsync(alice, bob, "After", "the reload");
            await browser.Notifications.ExpectTextsAsync("Before: the reload", "After: the reload");

            // Two new tabs load at once: their renewals take turns (one refresh cookie, single use), so neither
            // presents a rotated token and both are signed in.
            var tabs = new[] { await browser.NewTabAsync(), await browser.NewTabAsync() };
            await Task.WhenAll(tabs.Select(tab => browser.GoToAsync("/", tab)));
            foreach (var tab in tabs)
            {
                await tab.TestId("me").ExpectTextAsync("Signed in as bob");
                await tab.TestId("stream-notifications").ExpectAttributeAsync("data-state", "open");
            }

            await page.ReloadAsync();
            await page.TestId("me").ExpectTextAsync("Signed in as bob");

            // Signing out ends the session: the other tabs' sockets close 4001 and their renewal is refused; a reload
            // shows the sign-in form, and no cookie is left.
            await page.TestId("signout").ClickAsync();
            await page.TestId("signin-section").ExpectVisibleAsync();
            foreach (var tab in tabs)
            {
                await tab.TestId("signin-section").ExpectVisibleAsync();
            }

            await page.ReloadAsync();
            await page.TestId("signin-section").ExpectVisibleAsync();
            await page.TestId("session").ExpectHiddenAsync();
            Assert.Empty(await browser.CookiesAsync());
        });
    }

    [Fact]
    public async Task WithoutSessionModeTheClientKeepsItsTokensInMemoryAndOpensSocketsWithOneTimeTickets()
    {
        await using var server = await DevelopmentServer.StartAsync();
        var alice = await server.SignInAsync("alice");
        var (bob, _) = await server.MeAsync(await server.SignInAsync("bob"));
        await using var browser = await BrowserPage.OpenAsync(chromium, server);

        await browser.RunAsync(async () =>
        {
            // wsauth.js as a front end on another origin uses it: POST /token, then a ticket per socket.
            await browser.GoToAsync("/");
            await browser.Page.EvaluateFunctionAsync("""
                async () => {
                  const { WsAuthClient } = await import("/wsauth.js");
                  const client = new WsAuthClient();
                  await client.signIn("bob", "bob-dev-password");
                  const opened = new Promise((resolve) => client.addEventListener("state", (e) => e.detail.state === "open" && resolve()));
                  client.addEventListener("notification", (e) => { window.received = e.detail.message.title; });
                  client.connect("/ws/notifications");
                  await opened;
                }
                """);
            await server.NotifyAsync(alice, bob, "By ticket", "");

            await browser.Page.TestId("signin-section").ExpectVisibleAsync(); // the page itself is not signed in
            await using var received = await browser.Page.WaitForFunctionAsync("() => window.received", new WaitForFunctionOptions { PollingInterval = 100 });
            Assert.Equal("By ticket", await received.JsonValueAsync<string>());
            Assert.Empty(await browser.CookiesAsync());
            Assert.Equal(1, browser.TicketRequests);
            browser.AssertEverySocketCarriedOnlyATicket();
        });
    }
}

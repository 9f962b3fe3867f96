using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

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
            await browser.ExpectTextsAsync(browser.Notifications, "Before: the reload");

            // Two HttpOnly, SameSite=Strict cookies; nothing in storage, nothing a script can read.
            var cookies = (await page.Context.CookiesAsync()).OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
            Assert.Equal([("wsauth_refresh", "/session"), ("wsauth_session", "/")], cookies.Select(c => (c.Name, c.Path)));
            Assert.All(cookies, c => Assert.True(c.HttpOnly && c.SameSite == SameSiteAttribute.Strict, $"{c.Name} is not HttpOnly and SameSite=Strict"));
            Assert.Equal(0, await page.EvaluateAsync<int>("localStorage.length + sessionStorage.length"));
            Assert.Equal("", await page.EvaluateAsync<string>("document.cookie"));

            await page.ReloadAsync();

            await Expect(page.GetByTestId("me")).ToHaveTextAsync("Signed in as bob");
            await Expect(page.GetByTestId("signin-section")).ToBeHiddenAsync();
            await browser.ExpectStateAsync("notifications", "open");
            await browser.ExpectStateAsync("org-acme", "open");
            await server.NotifyAsync(alice, bob, "After", "the reload");
            await browser.ExpectTextsAsync(browser.Notifications, "Before: the reload", "After: the reload");

            // Two new tabs load at once: their renewals take turns (one refresh cookie, single use), so neither
            // presents a rotated token and both are signed in.
            var tabs = new[] { await browser.NewTabAsync(), await browser.NewTabAsync() };
            await Task.WhenAll(tabs.Select(tab => tab.GotoAsync("/")));
            foreach (var tab in tabs)
            {
                await Expect(tab.GetByTestId("me")).ToHaveTextAsync("Signed in as bob");
                await Expect(tab.GetByTestId("stream-notifications")).ToHaveAttributeAsync("data-state", "open");
            }

            await page.ReloadAsync();
            await Expect(page.GetByTestId("me")).ToHaveTextAsync("Signed in as bob");

            // Signing out ends the session: the other tabs' sockets close 4001 and their renewal is refused; a reload
            // shows the sign-in form, and no cookie is left.
            await page.GetByTestId("signout").ClickAsync();
            await Expect(page.GetByTestId("signin-section")).ToBeVisibleAsync();
            foreach (var tab in tabs)
            {
                await Expect(tab.GetByTestId("signin-section")).ToBeVisibleAsync();
            }

            await page.ReloadAsync();
            await Expect(page.GetByTestId("signin-section")).ToBeVisibleAsync();
            await Expect(page.GetByTestId("session")).ToBeHiddenAsync();
            Assert.Empty(await page.Context.CookiesAsync());
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
            await browser.Page.GotoAsync("/");
            await browser.Page.EvaluateAsync("""
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

            await Expect(browser.Page.GetByTestId("signin-section")).ToBeVisibleAsync(); // the page itself is not signed in
            Assert.Equal("By ticket", await browser.Page.WaitForFunctionAsync("() => window.received").ContinueWith(t => t.Result.JsonValueAsync<string>()).Unwrap());
            Assert.Empty(await browser.Page.Context.CookiesAsync());
            Assert.Equal(1, browser.TicketRequests);
            browser.AssertEverySocketCarriedOnlyATicket();
        });
    }
}

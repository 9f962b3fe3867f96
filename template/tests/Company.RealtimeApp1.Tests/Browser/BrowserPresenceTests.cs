using static Microsoft.Playwright.Assertions;

namespace Company.RealtimeApp1.Tests.Browser;

/// <summary>The development page in a real Chromium: who is online in an organization, live, and who is typing.</summary>
public sealed class BrowserPresenceTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task TwoUsersSeeEachOtherComeAndGoAndTypingShowsThenClears()
    {
        await using var server = await DevelopmentServer.StartAsync();
        await using var alice = await BrowserPage.OpenAsync(chromium, server);
        await using var bob = await BrowserPage.OpenAsync(chromium, server);

        await alice.RunAsync(async () =>
        {
            await alice.SignInAsync("alice", "org-acme");
            await alice.ExpectTextsAsync(Online(alice), "alice");

            await bob.SignInAsync("bob", "org-acme");
            await alice.ExpectTextsAsync(Online(alice), "alice", "bob");
            await bob.ExpectTextsAsync(Online(bob), "alice", "bob");

            await bob.Page.GetByTestId("say-acme").PressSequentiallyAsync("hello");
            await Expect(alice.Page.GetByTestId("typing-acme")).ToHaveTextAsync("bob is typing…", new() { Timeout = BrowserPage.Timeout });
            await Expect(bob.Page.GetByTestId("typing-acme")).ToHaveTextAsync("");
            await Expect(alice.Page.GetByTestId("typing-acme")).ToHaveTextAsync("", new() { Timeout = BrowserPage.Timeout });

            await bob.Page.GetByTestId("signout").ClickAsync();
            await alice.ExpectTextsAsync(Online(alice), "alice");
        });
    }

    private static Microsoft.Playwright.ILocator Online(BrowserPage page) => page.Page.GetByTestId("online-acme").Locator("li");
}

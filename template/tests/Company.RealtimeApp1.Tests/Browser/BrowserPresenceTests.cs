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
            await Online(alice).ExpectTextsAsync("alice");

            await bob.SignInAsync("bob", "org-acme");
            await Online(alice).ExpectTextsAsync("alice", "bob");
            await Online(bob).ExpectTextsAsync("alice", "bob");

            await bob.Page.TestId("say-acme").TypeAsync("hello");
            await alice.Page.TestId("typing-acme").ExpectTextAsync("bob is typing…");
            await bob.Page.TestId("typing-acme").ExpectTextAsync("");
            await alice.Page.TestId("typing-acme").ExpectTextAsync("");

            await bob.Page.TestId("signout").ClickAsync();
            await Online(alice).ExpectTextsAsync("alice");
        });
    }

    private static PageLocator Online(BrowserPage page) => page.Page.TestId("online-acme").Locator("li");
}

using Microsoft.AspNetCore.WebUtilities;
using System.Net;
using PuppeteerSharp;

namespace Company.RealtimeApp1.Tests.Browser;

/// <summary>
/// The development page and <c>wwwroot/wsauth.js</c> in a real Chromium against the app on a real port:
/// live delivery, resume after a restart, and a removed member's stream that stays stopped.
/// </summary>
public sealed class BrowserClientTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    [Fact]
    public async Task ANotificationAliceSendsAppearsOnBobsPage()
    {
        await using var server = await DevelopmentServer.StartAsync();
        var alice = await server.SignInAsync("alice");
        var (bob, _) = await server.MeAsync(await server.SignInAsync("bob"));
        await using var browser = await BrowserPage.OpenAsync(chromium, server);

        await browser.RunAsync(async () =>
        {
            await browser.SignInAsync("bob", "notifications", "org-acme");

            var id = await server.NotifyAsync(alice, bob, "Deploy finished", "v2 is live");

            await browser.Notifications.ExpectTextsAsync("Deploy finished: v2 is live");
            await browser.Page.TestId("notification").ExpectAttributeAsync("data-id", id.ToString());
            await browser.ExpectStateAsync("notifications", "open");

            // A member publishes to the organization from the page's form; the event comes back on its stream.
            await browser.Page.TestId("publish-type").FillAsync("chat");
            await browser.Page.TestId("publish-data").FillAsync("""{"text":"hi from the page"}""");
            await browser.Page.TestId("publish-submit").ClickAsync();
            await browser.Page.TestId("publish-result").ExpectTextAsync(new System.Text.RegularExpressions.Regex(@"^Published event \d+\.$"));
            await browser.Events("acme").ExpectTextsAsync("""bob · chat: {"text":"hi from the page"}""");
            browser.AssertNoSocketCarriedACredentialInItsUrl();
        });
    }

    [Fact]
    public async Task AfterAServerRestartThePageResumesAndShowsWhatWasSentMeanwhileExactlyOnce()
    {
        await using var server = await DevelopmentServer.StartAsync();
        var alice = await server.SignInAsync("alice");
        var (bob, organizations) = await server.MeAsync(await server.SignInAsync("bob"));
        var acme = organizations["acme"];
        await using var browser = await BrowserPage.OpenAsync(chromium, server);

        await browser.RunAsync(async () =>
        {
            await browser.SignInAsync("bob", "notifications", "org-acme");
            var before = await server.NotifyAsync(alice, bob, "Before", "the restart");
            var eventBefore = await server.PublishAsync(alice, acme, "chat", new { text = "before" });
            await browser.Notifications.ExpectTextsAsync("Before: the restart");
            await browser.Events("acme").ExpectTextsAsync("""alice · chat: {"text":"before"}""");

            // Hold the page's new sockets before they reach the server, so that none reconnects until everything
            // below is stored; each one's URL is kept.
            var reconnects = new System.Collections.Concurrent.ConcurrentQueue<Uri>();
            var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await browser.RouteWebSocketsAsync(url => url.AbsolutePath.StartsWith("/ws/", StringComparison.Ordinal), async url =>
            {
                reconnects.Enqueue(url);
                await release.Task;
                return SocketAnswer.Connect();
            });

            await server.RestartAsync();

            await browser.Stream("notifications").ExpectAttributeAsync("data-last-close", "1001");
            await browser.Stream("org-acme").ExpectAttributeAsync("data-last-close", "1001");
            await browser.ExpectStateAsync("notifications", "reconnecting");
            await browser.ExpectStateAsync("org-acme", "reconnecting");
            await Eventually.HoldsAsync(() => reconnects.Count == 2);

            alice = await server.SignInAsync("alice");
            var first = await server.NotifyAsync(alice, bob, "While away", "one");
            var second = await server.NotifyAsync(alice, bob, "While away", "two");
            var eventWhileAway = await server.PublishAsync(alice, acme, "chat", new { text = "while away" });
            Assert.Equal(2, reconnects.Count); // held: nothing reconnected yet

            release.SetResult();

            await browser.ExpectStateAsync("notifications", "open");
            await browser.ExpectStateAsync("org-acme", "open");
            await browser.Notifications.ExpectTextsAsync("Before: the restart", "While away: one", "While away: two");
            await browser.Events("acme").ExpectTextsAsync("""alice · chat: {"text":"before"}""", """alice · chat: {"text":"while away"}""");

            // The reconnects asked for what came after the last id each stream had shown.
            Assert.Equal(2, reconnects.Count);
            Assert.Equal(before.ToString(), SinceOf(reconnects.Single(u => u.AbsolutePath == "/ws/notifications")));
            Assert.Equal(eventBefore.ToString(), SinceOf(reconnects.Single(u => u.AbsolutePath == $"/ws/events/{acme}")));

            // Live again, and no duplicate came before the next message.
            var live = await server.NotifyAsync(alice, bob, "Live", "again");
            await browser.Notifications.ExpectTextsAsync("Before: the restart", "While away: one", "While away: two", "Live: again");
            Assert.Equal(
                new[] { before, first, second, live }.Select(id => id.ToString()),
                await browser.Page.TestId("notification").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.id)"));
            Assert.Equal(
                new[] { eventBefore, eventWhileAway }.Select(id => id.ToString()),
                await browser.Page.TestId("org-event").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.id)"));
            browser.AssertNoSocketCarriedACredentialInItsUrl();
        });
    }

    [Fact]
    public async Task ANotificationThatReachesThePageTwiceIsShownOnce()
    {
        await using var server = await DevelopmentServer.StartAsync();
        var alice = await server.SignInAsync("alice");
        var (bob, _) = await server.MeAsync(await server.SignInAsync("bob"));
        await using var browser = await BrowserPage.OpenAsync(chromium, server);

        // Between the page and the server, every notification frame is delivered twice.
        var duplicated = 0;
        await browser.RouteWebSocketsAsync(url => url.AbsolutePath == "/ws/notifications", _ => Task.FromResult(SocketAnswer.Connect(frame =>
        {
            if (!frame.StartsWith("""{"type":"notification""", StringComparison.Ordinal))
            {
                return 1;
            }

            Interlocked.Increment(ref duplicated);
            return 2;
        })));

        await browser.RunAsync(async () =>
        {
            await browser.SignInAsync("bob", "notifications", "org-acme");

            await server.NotifyAsync(alice, bob, "Once", "one");
            await server.NotifyAsync(alice, bob, "Once", "two");
            await server.NotifyAsync(alice, bob, "Once", "three");

            await browser.Notifications.ExpectTextsAsync("Once: one", "Once: two", "Once: three");
            Assert.Equal(3, Volatile.Read(ref duplicated));
        });
    }

    [Fact]
    public async Task ARemovedMembersPageShowsTheOrgStreamForbiddenAndStopsReconnectingToIt()
    {
        await using var server = await DevelopmentServer.StartAsync();
        var alice = await server.SignInAsync("alice");
        var (bob, organizations) = await server.MeAsync(await server.SignInAsync("bob"));
        var acme = organizations["acme"];
        await using var browser = await BrowserPage.OpenAsync(chromium, server);

        await browser.RunAsync(async () =>
        {
            await browser.SignInAsync("bob", "notifications", "org-acme");
            var sockets = browser.SocketPaths.Count;
            Assert.Equal(2, sockets);

            await server.RemoveMemberAsync(alice, acme, bob);

            await browser.ExpectStateAsync("org-acme", "forbidden");
            await browser.Stream("org-acme").ExpectAttributeAsync("data-last-close", "4003");
            await browser.Stream("org-acme").ExpectTextAsync("acme events: forbidden (removed: no longer allowed on this stream)");

            // A few seconds later: no socket opened, and the notifications stream still open.
            await Task.Delay(TimeSpan.FromSeconds(5));
            await browser.ExpectStateAsync("org-acme", "forbidden");
            Assert.Equal(sockets, browser.SocketPaths.Count);
            await browser.ExpectStateAsync("notifications", "open");
            await browser.Stream("notifications").ExpectNoAttributeValueAsync("data-last-close");

            await server.NotifyAsync(alice, bob, "Still", "here");
            await browser.Notifications.ExpectTextsAsync("Still: here");
        });
    }

    [Fact]
    public async Task WhenThePasswordChangesElsewhereThePageReportsSignedOutAndStopsReconnecting()
    {
        await using var server = await DevelopmentServer.StartAsync();
        var bobElsewhere = await server.SignInAsync("bob");
        await using var browser = await BrowserPage.OpenAsync(chromium, server);

        await browser.RunAsync(async () =>
        {
            await browser.SignInAsync("bob", "notifications", "org-acme");
            var sockets = browser.SocketPaths.Count;

            // Every other session of bob ends: his sockets close 4001 and his refresh tokens are revoked.
            await server.ChangePasswordAsync(bobElsewhere, "bob-dev-password", "bob-new-password");

            await browser.Page.TestId("signin-error").ExpectTextAsync("Your session ended; sign in again.");
            await browser.Page.TestId("signin-section").ExpectVisibleAsync();
            await browser.Page.TestId("session").ExpectHiddenAsync();
            await Task.Delay(TimeSpan.FromSeconds(3));
            Assert.Equal(sockets, browser.SocketPaths.Count);
        });
    }

    [Fact]
    public async Task ARefreshAnswered503KeepsThePageSignedInAndItRetriesTheRefreshThenConnects()
    {
        await using var server = await DevelopmentServer.StartAsync();
        var alice = await server.SignInAsync("alice");
        var (bob, _) = await server.MeAsync(await server.SignInAsync("bob"));
        await using var browser = await BrowserPage.OpenAsync(chromium, server);

        // Until the page has renewed its session at the server, its handshakes are refused (auth 401, close 4001)
        // without reaching the server, so the page renews; the first renewal is answered 503 (Retry-After: 1).
        var refreshes = 0;
        var renewing = 0;
        var renewed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var signedIn = 0;
        await browser.RouteWebSocketsAsync(url => url.AbsolutePath.StartsWith("/ws/", StringComparison.Ordinal), async _ =>
        {
            if (Volatile.Read(ref renewing) == 1)
            {
                await renewed.Task; // a handshake of the renewal's moment waits for its answer
                return SocketAnswer.Connect(); // from here on, frames pass through as they are
            }

            return SocketAnswer.Refuse("""{"type":"auth","status":401,"error":"token_expired","detail":"The access token expired."}""", 4001, "unauthorized");
        });
        // The renewals after the sign-in, that is: the page asks once when it loads too (a reload's restore), before any session.
        await browser.RouteRequestsAsync(async request =>
        {
            var path = new Uri(request.Url).AbsolutePath;
            if (path == "/session")
            {
                Volatile.Write(ref signedIn, 1);
            }

            if (path != "/session/refresh" || Volatile.Read(ref signedIn) == 0)
            {
                await request.ContinueAsync();
                return;
            }

            if (Interlocked.Increment(ref refreshes) == 1)
            {
                await request.RespondAsync(new ResponseData
                {
                    Status = HttpStatusCode.ServiceUnavailable,
                    Headers = new Dictionary<string, object> { ["Retry-After"] = "1" },
                    ContentType = "application/json",
                    Body = """{"error":"temporarily_unavailable"}""",
                });
                return;
            }

            Volatile.Write(ref renewing, 1);
            await request.ContinueAsync();
        });
        browser.Page.Response += (_, e) =>
        {
            if (new Uri(e.Response.Url).AbsolutePath == "/session/refresh" && Volatile.Read(ref renewing) == 1)
            {
                renewed.TrySetResult();
            }
        };

        await browser.RunAsync(async () =>
        {
            await browser.SignInAsync("bob", "notifications", "org-acme");

            Assert.Equal(2, Volatile.Read(ref refreshes)); // one 503, then one that went through
            await browser.Page.TestId("signin-error").ExpectHiddenAsync();
            await browser.Page.TestId("session").ExpectVisibleAsync();
            await server.NotifyAsync(alice, bob, "Still", "signed in");
            await browser.Notifications.ExpectTextsAsync("Still: signed in");
            browser.AssertNoSocketCarriedACredentialInItsUrl();
        });
    }

    private static string? SinceOf(Uri url) => QueryHelpers.ParseQuery(url.Query).TryGetValue("since", out var since) ? since.ToString() : null;
}

using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.WebUtilities;
using PuppeteerSharp;

namespace Company.RealtimeApp1.Tests.Browser;

/// <summary>
/// The development page (<c>wwwroot/index.html</c>) in a fresh browser context, with what the tests look at:
/// its stream entries, its message lists, and every ticket request and WebSocket it made.
/// </summary>
public sealed class BrowserPage : IAsyncDisposable
{
    /// <summary>How long an expectation or an action waits for the page (generous: nothing here is a timing assertion).</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly IBrowserContext _context;
    private readonly Uri _address;
    private readonly PageSockets _sockets;
    private readonly ConcurrentQueue<Exception> _requestFailures = new();
    private int _ticketRequests;

    private BrowserPage(IBrowserContext context, IPage page, Uri address)
    {
        _context = context;
        _address = address;
        Page = page;
        _sockets = new PageSockets(page);
        page.Request += (_, e) =>
        {
            if (new Uri(e.Request.Url).AbsolutePath == "/ws/ticket")
            {
                Interlocked.Increment(ref _ticketRequests);
            }
        };
    }

    public IPage Page { get; }

    /// <summary><c>POST /ws/ticket</c> requests the page made so far.</summary>
    public int TicketRequests => Volatile.Read(ref _ticketRequests);

    /// <summary>Path and query of every WebSocket the page opened, in order (queries hold tickets: never print them).</summary>
    public IReadOnlyList<string> SocketPaths => _sockets.Paths;

    /// <summary>
    /// Asserts that every WebSocket the page opened so far carried no credential in its URL (the page's sockets are
    /// opened with the HttpOnly session cookie): at most one <c>since</c> in its query, and nothing else. Names only.
    /// </summary>
    public void AssertNoSocketCarriedACredentialInItsUrl() => AssertSocketQueries(ticket: false);

    /// <summary>
    /// Asserts that every WebSocket opened so far carried exactly one <c>ticket</c> and at most one <c>since</c> in
    /// its query, and nothing else: no <c>access_token</c>, no <c>token</c>. Names only, never values.
    /// </summary>
    public void AssertEverySocketCarriedOnlyATicket() => AssertSocketQueries(ticket: true);

    private void AssertSocketQueries(bool ticket)
    {
        var paths = SocketPaths;
        Assert.NotEmpty(paths);
        foreach (var path in paths)
        {
            var query = QueryHelpers.ParseQuery(new Uri(new Uri("http://page"), path).Query);
            var names = string.Join(", ", query.Keys.Order(StringComparer.Ordinal));
            Assert.True(!ticket || (query.TryGetValue("ticket", out var one) && one.Count == 1), $"a socket without exactly one ticket (query names: {names})");
            Assert.True(query.Keys.All(name => name == "since" || (ticket && name == "ticket")), $"a socket with more in its query than {(ticket ? "a ticket and " : "")}since (query names: {names})");
            Assert.True(!query.TryGetValue("since", out var since) || since.Count == 1, $"a socket with more than one since (query names: {names})");
        }
    }

    public static async Task<BrowserPage> OpenAsync(ChromiumFixture chromium, DevelopmentServer server)
    {
        var context = await (await chromium.GetBrowserAsync()).CreateBrowserContextAsync();
        var page = await context.NewPageAsync();
        page.DefaultTimeout = (int)Timeout.TotalMilliseconds;
        return new BrowserPage(context, page, server.Address);
    }

    /// <summary>Another tab of the same browser context: it shares this page's cookies, as a user's tabs do.</summary>
    public async Task<IPage> NewTabAsync()
    {
        var page = await _context.NewPageAsync();
        page.DefaultTimeout = (int)Timeout.TotalMilliseconds;
        return page;
    }

    /// <summary>Loads <paramref name="path"/> of the app in the page, or in <paramref name="tab"/>.</summary>
    public async Task GoToAsync(string path, IPage? tab = null) => await (tab ?? Page).GoToAsync(new Uri(_address, path).ToString());

    /// <summary>Every cookie of the browser context, whatever its path.</summary>
    public async Task<CookieParam[]> CookiesAsync() => await _context.GetCookiesAsync();

    /// <summary>Each WebSocket the page opens from now on whose address <paramref name="match"/> takes does what <paramref name="route"/> answers.</summary>
    public Task RouteWebSocketsAsync(Func<Uri, bool> match, Func<Uri, Task<SocketAnswer>> route) => _sockets.RouteAsync(match, route);

    /// <summary>
    /// Every request of the page goes to <paramref name="route"/> from now on, which continues it or answers it
    /// (the DevTools protocol's request interception).
    /// </summary>
    public async Task RouteRequestsAsync(Func<IRequest, Task> route)
    {
        await Page.SetRequestInterceptionAsync(true);
        Page.Request += async (_, e) =>
        {
            try
            {
                await route(e.Request);
            }
            catch (Exception failure)
            {
                _requestFailures.Enqueue(failure); // the request stays unanswered; RunAsync reports it
            }
        };
    }

    /// <summary>The stream entry of <paramref name="key"/>: <c>notifications</c>, or <c>org-SLUG</c>.</summary>
    public PageLocator Stream(string key) => Page.TestId($"stream-{key}");

    /// <summary>The text of each notification shown, in order.</summary>
    public PageLocator Notifications => Page.TestId("notifications").TestId("notification").Locator(".text");

    /// <summary>The text of each event of organization <paramref name="slug"/> shown, in order.</summary>
    public PageLocator Events(string slug) => Page.TestId($"events-{slug}").TestId("org-event").Locator(".text");

    /// <summary>Opens the page, signs in as a seeded user, and waits until every stream in <paramref name="streams"/> is open.</summary>
    public async Task SignInAsync(string userName, params string[] streams)
    {
        await GoToAsync("/");
        await Page.TestId("username").FillAsync(userName);
        await Page.TestId("password").FillAsync($"{userName}-dev-password");
        await Page.TestId("signin-submit").ClickAsync();
        await Page.TestId("me").ExpectTextAsync($"Signed in as {userName}");
        foreach (var stream in streams)
        {
            await ExpectStateAsync(stream, "open");
        }
    }

    /// <summary>Waits until stream <paramref name="key"/> shows <paramref name="state"/>, in its attribute and its text.</summary>
    public async Task ExpectStateAsync(string key, string state)
    {
        await Stream(key).ExpectAttributeAsync("data-state", state);
        await Stream(key).Locator(".state").ExpectTextAsync(state);
    }

    /// <summary>
    /// Runs <paramref name="test"/>; when it fails, or a route of the test failed, saves a screenshot of the page
    /// under the test output directory and names it in the failure.
    /// </summary>
    public async Task RunAsync(Func<Task> test, [CallerMemberName] string name = "")
    {
        try
        {
            await test();
            if (RouteFailure is { } route)
            {
                throw new InvalidOperationException("A route of the test failed.", route);
            }
        }
        catch (Exception failure)
        {
            var path = Path.Combine(AppContext.BaseDirectory, "screenshots", $"{name}.png");
            string saved;
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await Page.ScreenshotAsync(path, new ScreenshotOptions { FullPage = true });
                saved = $"screenshot of the page: {path}";
            }
            catch (Exception screenshot)
            {
                saved = $"no screenshot ({screenshot.GetType().Name})";
            }

            var routeFailure = RouteFailure is { } route ? $"{Environment.NewLine}(a route of the test failed: {route.GetType().Name}: {route.Message})" : "";
            throw new BrowserTestException($"{failure.Message}{routeFailure}{Environment.NewLine}({saved})", failure);
        }
    }

    public async ValueTask DisposeAsync() => await _context.CloseAsync();

    private Exception? RouteFailure => _sockets.Failure ?? (_requestFailures.TryPeek(out var failure) ? failure : null);
}

/// <summary>A failed browser test, with where its screenshot is.</summary>
public sealed class BrowserTestException(string message, Exception inner) : Exception(message, inner);

using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Company.RealtimeApp1.Tests.Browser;

/// <summary>
/// The development page (<c>wwwroot/index.html</c>) in a fresh browser context, with what the tests look at:
/// its stream entries, its message lists, and every ticket request and WebSocket it made.
/// </summary>
public sealed class BrowserPage : IAsyncDisposable
{
    /// <summary>How long an expectation waits for the page (generous: nothing here is a timing assertion).</summary>
    public const float Timeout = 20_000;

    private readonly IBrowserContext _context;
    private readonly List<string> _socketPaths = [];
    private int _ticketRequests;

    private BrowserPage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Request += (_, request) =>
        {
            if (new Uri(request.Url).AbsolutePath == "/ws/ticket")
            {
                Interlocked.Increment(ref _ticketRequests);
            }
        };
        page.WebSocket += (_, socket) =>
        {
            lock (_socketPaths)
            {
                _socketPaths.Add(new Uri(socket.Url).PathAndQuery);
            }
        };
    }

    public IPage Page { get; }

    /// <summary><c>POST /ws/ticket</c> requests the page made so far.</summary>
    public int TicketRequests => Volatile.Read(ref _ticketRequests);

    /// <summary>Path and query of every WebSocket the page opened, in order (queries hold tickets: never print them).</summary>
    public IReadOnlyList<string> SocketPaths
    {
        get
        {
            lock (_socketPaths)
            {
                return [.. _socketPaths];
            }
        }
    }

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
        var context = await (await chromium.GetBrowserAsync()).NewContextAsync(new BrowserNewContextOptions { BaseURL = server.Address.ToString() });
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(Timeout);
        return new BrowserPage(context, page);
    }

    /// <summary>Another tab of the same browser context: it shares this page's cookies, as a user's tabs do.</summary>
    public async Task<IPage> NewTabAsync()
    {
        var page = await _context.NewPageAsync();
        page.SetDefaultTimeout(Timeout);
        return page;
    }

    /// <summary>The stream entry of <paramref name="key"/>: <c>notifications</c>, or <c>org-SLUG</c>.</summary>
    public ILocator Stream(string key) => Page.GetByTestId($"stream-{key}");

    /// <summary>The text of each notification shown, in order.</summary>
    public ILocator Notifications => Page.GetByTestId("notifications").GetByTestId("notification").Locator(".text");

    /// <summary>The text of each event of organization <paramref name="slug"/> shown, in order.</summary>
    public ILocator Events(string slug) => Page.GetByTestId($"events-{slug}").GetByTestId("org-event").Locator(".text");

    /// <summary>Opens the page, signs in as a seeded user, and waits until every stream in <paramref name="streams"/> is open.</summary>
    public async Task SignInAsync(string userName, params string[] streams)
    {
        await Page.GotoAsync("/");
        await Page.GetByTestId("username").FillAsync(userName);
        await Page.GetByTestId("password").FillAsync($"{userName}-dev-password");
        await Page.GetByTestId("signin-submit").ClickAsync();
        await Expect(Page.GetByTestId("me")).ToHaveTextAsync($"Signed in as {userName}", new() { Timeout = Timeout });
        foreach (var stream in streams)
        {
            await ExpectStateAsync(stream, "open");
        }
    }

    /// <summary>Waits until stream <paramref name="key"/> shows <paramref name="state"/>, in its attribute and its text.</summary>
    public async Task ExpectStateAsync(string key, string state, float timeout = Timeout)
    {
        await Expect(Stream(key)).ToHaveAttributeAsync("data-state", state, new() { Timeout = timeout });
        await Expect(Stream(key).Locator(".state")).ToHaveTextAsync(state, new() { Timeout = timeout });
    }

    public async Task ExpectTextsAsync(ILocator locator, params string[] texts) =>
        await Expect(locator).ToHaveTextAsync(texts, new() { Timeout = Timeout });

    /// <summary>
    /// Runs <paramref name="test"/>; when it fails, saves a screenshot of the page under the test output
    /// directory and names it in the failure.
    /// </summary>
    public async Task RunAsync(Func<Task> test, [CallerMemberName] string name = "")
    {
        try
        {
            await test();
        }
        catch (Exception failure)
        {
            var path = Path.Combine(AppContext.BaseDirectory, "screenshots", $"{name}.png");
            string saved;
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                await Page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
                saved = $"screenshot of the page: {path}";
            }
            catch (Exception screenshot)
            {
                saved = $"no screenshot ({screenshot.GetType().Name})";
            }

            throw new BrowserTestException($"{failure.Message}{Environment.NewLine}({saved})", failure);
        }
    }

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();
}

/// <summary>A failed browser test, with where its screenshot is.</summary>
public sealed class BrowserTestException(string message, Exception inner) : Exception(message, inner);

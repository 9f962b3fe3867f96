using Microsoft.Playwright;

namespace Company.RealtimeApp1.Tests.Browser;

/// <summary>
/// One headless Chromium, Chrome or Edge (the installed one <see cref="TestServices.Browser"/> finds; Playwright's own
/// browser download is not used) for a test class, started by its first test; each test opens its own context.
/// Without a browser, each test skips (fails under CI) with what to install or set.
/// </summary>
public sealed class ChromiumFixture : IAsyncDisposable
{
    private readonly SemaphoreSlim _starting = new(1, 1);
    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>The running browser; the first call finds and starts it (in the test, so that a missing one skips the test).</summary>
    public async Task<IBrowser> GetBrowserAsync()
    {
        var executable = TestServices.Browser();
        await _starting.WaitAsync();
        try
        {
            _playwright ??= await Playwright.CreateAsync();
            return _browser ??= await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = executable, Headless = true });
        }
        finally
        {
            _starting.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        _starting.Dispose();
    }
}

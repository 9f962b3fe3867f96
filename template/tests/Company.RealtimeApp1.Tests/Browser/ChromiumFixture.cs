using PuppeteerSharp;

namespace Company.RealtimeApp1.Tests.Browser;

/// <summary>
/// One headless Chromium, Chrome or Edge (the installed one <see cref="TestServices.Browser"/> finds; no browser is
/// downloaded), driven over the DevTools protocol, for a test class, started by its first test; each test opens a
/// browser context of its own. Without a browser, each test skips (fails under CI) with what to install or set.
/// </summary>
public sealed class ChromiumFixture : IAsyncDisposable
{
    private readonly SemaphoreSlim _starting = new(1, 1);
    private IBrowser? _browser;

    /// <summary>The running browser; the first call finds and starts it (in the test, so that a missing one skips the test).</summary>
    public async Task<IBrowser> GetBrowserAsync()
    {
        var executable = TestServices.Browser();
        await _starting.WaitAsync();
        try
        {
            return _browser ??= await Puppeteer.LaunchAsync(new LaunchOptions
            {
                ExecutablePath = executable,
                Headless = true,
                // Chromium's sandbox refuses to start as root, and needs user namespaces a container may not have; the
                // pages are the app's own.
                Args = ["--no-sandbox"],
            });
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

        _starting.Dispose();
    }
}

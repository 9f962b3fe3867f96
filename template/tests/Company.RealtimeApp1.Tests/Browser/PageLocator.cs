using System.Text.RegularExpressions;
using PuppeteerSharp;

namespace Company.RealtimeApp1.Tests.Browser;

/// <summary>
/// The elements a CSS selector finds on a page, looked up anew on each use, with the actions and the waiting
/// expectations the browser tests use. An expectation polls the page until it holds, then checks once more with
/// an exact assertion, which is what fails the test when <see cref="BrowserPage.Timeout"/> (or the given timeout)
/// passes first. Texts are compared whitespace-normalized (runs of whitespace are one space, trimmed), as a reader sees them.
/// </summary>
public sealed class PageLocator(IPage page, string selector)
{
    // Of each element found: its normalized textContent, whether it is visible (a box of its own and not
    // visibility: hidden), and the attribute asked for (null when it has none).
    private const string Snapshot = """
        (selector, attribute) => [...document.querySelectorAll(selector)].map((element) => {
          const box = element.getBoundingClientRect();
          return {
            text: (element.textContent ?? "").replace(/\s+/g, " ").trim(),
            visible: box.width > 0 && box.height > 0 && getComputedStyle(element).visibility !== "hidden",
            attribute: attribute === "" ? null : element.getAttribute(attribute),
          };
        })
        """;

    public string Selector { get; } = selector;

    /// <summary>The elements of <paramref name="css"/> within these.</summary>
    public PageLocator Locator(string css) => new(page, $"{Selector} {css}");

    /// <summary>The elements with <c>data-testid="<paramref name="testId"/>"</c> within these.</summary>
    public PageLocator TestId(string testId) => Locator(TestIdSelector(testId));

    public static string TestIdSelector(string testId) => $"[data-testid=\"{testId}\"]";

    // An action brings its tab to the front first, as a user does: a tab behind another gets no animation frames,
    // which an action waits for (a still element).

    /// <summary>Waits for the one element to be visible and enabled, then types <paramref name="value"/> in place of its value.</summary>
    public async Task FillAsync(string value)
    {
        await page.BringToFrontAsync();
        await page.Locator(Selector).FillAsync(value);
    }

    /// <summary>Waits for the one element to be visible, enabled and still, then clicks it.</summary>
    public async Task ClickAsync()
    {
        await page.BringToFrontAsync();
        await page.Locator(Selector).ClickAsync();
    }

    /// <summary>Focuses the one element and types <paramref name="text"/> key by key, as a user does.</summary>
    public async Task TypeAsync(string text)
    {
        await page.BringToFrontAsync();
        await using var element = await page.WaitForSelectorAsync(Selector, new WaitForSelectorOptions { Visible = true });
        await element.TypeAsync(text);
    }

    /// <summary>Runs <paramref name="function"/> on the array of the elements found.</summary>
    public async Task<T> EvaluateAllAsync<T>(string function)
    {
        await using var elements = await page.QuerySelectorAllHandleAsync(Selector);
        return await elements.EvaluateFunctionAsync<T>(function);
    }

    /// <summary>Waits until there is one element and its text is <paramref name="text"/>.</summary>
    public Task ExpectTextAsync(string text, TimeSpan? timeout = null) =>
        ExpectAsync(found => Assert.Equal(Normalized(text), One(found).Text), timeout);

    /// <summary>Waits until there is one element and its text matches <paramref name="pattern"/>.</summary>
    public Task ExpectTextAsync(Regex pattern, TimeSpan? timeout = null) =>
        ExpectAsync(found => Assert.Matches(pattern, One(found).Text), timeout);

    /// <summary>Waits until the elements are exactly <paramref name="texts"/>, in order.</summary>
    public Task ExpectTextsAsync(params string[] texts) =>
        ExpectAsync(found => Assert.Equal(texts.Select(Normalized), found.Select(element => element.Text)), null);

    /// <summary>Waits until there is one element and its <paramref name="name"/> attribute is <paramref name="value"/>.</summary>
    public Task ExpectAttributeAsync(string name, string value, TimeSpan? timeout = null) =>
        ExpectAsync(found => Assert.Equal(value, One(found).Attribute), timeout, name);

    /// <summary>Waits until there is one element and its <paramref name="name"/> attribute is absent or empty.</summary>
    public Task ExpectNoAttributeValueAsync(string name) =>
        ExpectAsync(found => Assert.True(string.IsNullOrEmpty(One(found).Attribute), $"{Selector} has {name}=\"{One(found).Attribute}\""), null, name);

    /// <summary>Waits until there is one element and it is visible.</summary>
    public Task ExpectVisibleAsync() =>
        ExpectAsync(found => Assert.True(One(found).Visible, $"{Selector} is hidden"), null);

    /// <summary>Waits until no element is visible (none, or hidden).</summary>
    public Task ExpectHiddenAsync() =>
        ExpectAsync(found => Assert.True(found.All(element => !element.Visible), $"{Selector} is visible"), null);

    private async Task ExpectAsync(Action<IReadOnlyList<Element>> assertion, TimeSpan? timeout, string? attribute = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? BrowserPage.Timeout);
        while (true)
        {
            IReadOnlyList<Element>? found = null;
            try
            {
                found = await page.EvaluateFunctionAsync<Element[]>(Snapshot, Selector, attribute ?? "");
            }
            catch (PuppeteerException) when (DateTime.UtcNow < deadline)
            {
                // The page is between two documents (a reload): look again.
            }

            if (found is not null)
            {
                if (DateTime.UtcNow >= deadline)
                {
                    assertion(found); // fails with what the page shows
                    return;
                }

                try
                {
                    assertion(found);
                    return;
                }
                catch (Xunit.Sdk.XunitException)
                {
                    // Not yet.
                }
            }

            await Task.Delay(100);
        }
    }

    private Element One(IReadOnlyList<Element> found)
    {
        Assert.True(found.Count == 1, $"{found.Count} elements match {Selector}, not one");
        return found[0];
    }

    private static string Normalized(string text) => Regex.Replace(text, @"\s+", " ").Trim();

    public override string ToString() => Selector;

    private sealed record Element(string Text, bool Visible, string? Attribute);
}

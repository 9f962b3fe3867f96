using PuppeteerSharp;

namespace Company.RealtimeApp1.Tests.Browser;

/// <summary>Where the browser tests start looking: a page's elements by their <c>data-testid</c>.</summary>
public static class PageLocators
{
    public static PageLocator TestId(this IPage page, string testId) => new(page, PageLocator.TestIdSelector(testId));
}

using System.Net;

namespace Company.RealtimeApp1.Tests;

/// <summary>The browser client, <c>wwwroot/wsauth.js</c>, is served in Development (to try it, or to import it as it is) and nowhere else.</summary>
public sealed class BrowserClientFileTests
{
    [Fact]
    public async Task DevelopmentServesTheBrowserClientAsAScript()
    {
        await using var app = RealtimeApplication.With([], "Development");
        using var client = app.CreateClient();

        using var response = await client.GetAsync("/wsauth.js");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/javascript", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("// wsauth.js: a dependency-free browser client", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OutsideDevelopmentTheBrowserClientIsNotServed()
    {
        await using var app = new RealtimeApplication();
        using var client = app.CreateClient();

        using var response = await client.GetAsync("/wsauth.js");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}

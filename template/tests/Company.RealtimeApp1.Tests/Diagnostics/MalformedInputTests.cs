using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// Development is where minimal APIs throw on bad requests by default (a 500 and an Error log), so the
/// malformed inputs are sent there, as the seeded admin alice; the other environments never threw.
/// </summary>
public sealed class MalformedInputTests
{
    [Theory]
#if (examples)
    [InlineData("GET", "/api/notifications?since=9999999999999999999", null)]
    [InlineData("GET", "/api/notifications?limit=abc", null)]
    [InlineData("POST", "/api/notifications", "not json")]
    [InlineData("POST", "/api/orgs/{acme}/events", "{\"type\":")]
#endif
    [InlineData("POST", "/api/orgs/{acme}/members", "[1, 2]")]
    [InlineData("POST", "/api/orgs/{acme}/members", "{\"userId\":\"{alice}\",\"role\":1}")]
    public async Task MalformedInputIsA400WithAJsonBodyAndNoErrorLogInDevelopment(string method, string path, string? body)
    {
        using var app = RealtimeApplication.With([], "Development");
        var client = app.CreateClient((await app.SignInAsync("alice", "alice-dev-password")).AccessToken);
        var alice = (await client.GetFromJsonAsync<Me>("/me"))!;
        using var request = new HttpRequestMessage(
            new HttpMethod(method),
            path.Replace("{acme}", alice.Organizations.Single(o => o.Slug == "acme").Id.ToString(), StringComparison.Ordinal));
        if (body is not null)
        {
            request.Content = new StringContent(body.Replace("{alice}", alice.Id.ToString(), StringComparison.Ordinal), Encoding.UTF8, "application/json");
        }

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(400, (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetInt32());
        Assert.DoesNotContain(app.Logs.GetSnapshot(), record => record.Level >= LogLevel.Error);
    }
}

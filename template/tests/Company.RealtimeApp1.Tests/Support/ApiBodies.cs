using System.Text.Json.Serialization;

namespace Company.RealtimeApp1.Tests;

// The API's JSON bodies as a client sees them, declared here rather than borrowed from the app so
// that a renamed property fails a test instead of silently changing the contract.

public sealed record TokenPair(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] long ExpiresIn,
    [property: JsonPropertyName("refresh_token")] string RefreshToken);

public sealed record Me(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("username")] string Username,
    [property: JsonPropertyName("roles")] string[] Roles,
    [property: JsonPropertyName("organizations")] MyOrg[] Organizations);

public sealed record MyOrg(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("slug")] string Slug,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("role")] string Role);

/// <summary>A <c>400</c> validation problem (RFC 9457), exactly: its fixed members, the errors by field, and a trace id.</summary>
public static class ValidationProblemBody
{
    public static async Task AssertAsync(HttpResponseMessage response, Dictionary<string, string[]> errors)
    {
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var problem = body.RootElement;
        Assert.Equal(["type", "title", "status", "errors", "traceId"], problem.EnumerateObject().Select(member => member.Name));
        Assert.Equal("https://tools.ietf.org/html/rfc9110#section-15.5.1", problem.GetProperty("type").GetString());
        Assert.Equal("One or more validation errors occurred.", problem.GetProperty("title").GetString());
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Equal(
            errors.OrderBy(error => error.Key, StringComparer.Ordinal).Select(error => (error.Key, string.Join('|', error.Value))),
            problem.GetProperty("errors").EnumerateObject().OrderBy(error => error.Name, StringComparer.Ordinal)
                .Select(error => (error.Name, string.Join('|', error.Value.EnumerateArray().Select(message => message.GetString())))));
        Assert.Matches("^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$", problem.GetProperty("traceId").GetString());
    }
}

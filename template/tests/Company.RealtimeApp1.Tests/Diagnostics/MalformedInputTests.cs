using System.Net;
using System.Net.Http.Headers;
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

    [Theory]
    [InlineData("/token")]
    [InlineData("/token/revoke")]
    [InlineData("/session")]
    [InlineData("/me/password")]
    public async Task AFormInACharsetTheAppDoesNotReadIsInvalidRequestInDevelopment(string path)
    {
        using var app = RealtimeApplication.With([], "Development");
        var client = app.CreateClient((await app.SignInAsync("alice", "alice-dev-password")).AccessToken);
        using var form = new ByteArrayContent(
            "grant_type=password&username=alice&password=alice-dev-password&token=t&current_password=alice-dev-password&new_password=n"u8.ToArray());
        form.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-www-form-urlencoded; charset=utf-7");

        using var response = await client.PostAsync(path, form);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(
            """{"error":"invalid_request","error_description":"The form must be UTF-8 (RFC 6749 Appendix B)."}""",
            await response.Content.ReadAsStringAsync());
        Assert.DoesNotContain(app.Logs.GetSnapshot(), record => record.Level >= LogLevel.Error);
    }

#if (examples)
    /// <summary>
    /// Bodies are sent as Latin-1, so that a C# <c>\u00FF</c> or <c>\u00C3(</c> in them is that raw byte sequence,
    /// which is not UTF-8; a C# <c>\\ud800</c> is the JSON escape of a lone surrogate, which no Unicode text holds.
    /// </summary>
    [Theory]
    [InlineData("/api/orgs/{acme}/events", "{\"type\":\"a\u00FF\"}")]
    [InlineData("/api/orgs/{acme}/events", "{\"type\":\"a\",\"data\":{\"x\":\"\u00C3(\"}}")]
    [InlineData("/api/orgs/{acme}/events", "{\"type\":\"a\",\"data\":\"\\ud800\"}")]
    [InlineData("/api/orgs/{acme}/events", "{\"type\":\"a\"} x")]
    [InlineData("/api/orgs/{acme}/events", "{\"type\":\"a\"}{\"type\":\"b\"}")]
    [InlineData("/api/notifications", "{\"userId\":\"{alice}\",\"title\":\"t\u00FF\",\"body\":\"b\"}")]
    [InlineData("/api/notifications", "{\"userId\":\"{alice}\",\"title\":\"t\",\"body\":\"b\",\"data\":[\"\u00FF\"]}")]
    [InlineData("/api/notifications", "{\"userId\":\"{alice}\",\"title\":\"t\",\"body\":\"b\",\"data\":{\"\\udc00\":1}}")]
    [InlineData("/api/notifications", "{\"userId\":\"{alice}\",\"title\":\"t\",\"body\":\"b\"} x")]
    public async Task AJsonBodyThatIsNotUnicodeTextOrHasTrailingGarbageIsA400InDevelopment(string path, string body)
    {
        using var app = RealtimeApplication.With([], "Development");
        var client = app.CreateClient((await app.SignInAsync("alice", "alice-dev-password")).AccessToken);
        var alice = (await client.GetFromJsonAsync<Me>("/me"))!;
        using var content = new ByteArrayContent(Encoding.Latin1.GetBytes(body.Replace("{alice}", alice.Id.ToString(), StringComparison.Ordinal)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var response = await client.PostAsync(
            path.Replace("{acme}", alice.Organizations.Single(o => o.Slug == "acme").Id.ToString(), StringComparison.Ordinal), content);

        await AssertBadRequestProblemAsync(response, "The body is not the expected JSON object.");
        Assert.DoesNotContain(app.Logs.GetSnapshot(), record => record.Level >= LogLevel.Error);
    }

    [Theory]
    [InlineData("/api/orgs/{acme}/events", "4\r\n{\"ty\r\nnot-hex\r\n")]
    [InlineData("/api/orgs/{acme}/events", "4\r\n{\"type\":\"a\"}\r\n0\r\n\r\n")]
    [InlineData("/api/notifications", "4\r\n{\"ti\r\nnot-hex\r\n")]
    [InlineData("/api/notifications", "ffffffffffffffffff\r\n{}\r\n0\r\n\r\n")]
    public async Task ABrokenChunkedBodyIsA400WithAJsonBodyInDevelopment(string path, string chunked)
    {
        using var app = RealtimeApplication.With([], "Development");
        var token = (await app.SignInAsync("alice", "alice-dev-password")).AccessToken;
        var alice = (await app.CreateClient(token).GetFromJsonAsync<Me>("/me"))!;

        var response = await RawHttp.SendAsync(app.ServerAddress, RawHttp.Request(
            [
                "POST " + path.Replace("{acme}", alice.Organizations.Single(o => o.Slug == "acme").Id.ToString(), StringComparison.Ordinal) + " HTTP/1.1",
                "Host: " + app.ServerAddress.Authority,
                "Authorization: Bearer " + token,
                "Content-Type: application/json",
                "Transfer-Encoding: chunked",
                "Connection: close",
            ],
            Encoding.ASCII.GetBytes(chunked)));

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        Assert.Equal("application/problem+json", response.ContentType);
        var problem = JsonDocument.Parse(response.Body).RootElement;
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Equal("Bad Request", problem.GetProperty("title").GetString());
        Assert.Equal("The request body could not be read: its framing is broken or it ended early.", problem.GetProperty("detail").GetString());
        Assert.DoesNotContain(app.Logs.GetSnapshot(), record => record.Level >= LogLevel.Error);
    }

    private static async Task AssertBadRequestProblemAsync(HttpResponseMessage response, string detail)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["type", "title", "status", "detail", "traceId"], problem.EnumerateObject().Select(p => p.Name));
        Assert.Equal("https://tools.ietf.org/html/rfc9110#section-15.5.1", problem.GetProperty("type").GetString());
        Assert.Equal("Bad Request", problem.GetProperty("title").GetString());
        Assert.Equal(400, problem.GetProperty("status").GetInt32());
        Assert.Equal(detail, problem.GetProperty("detail").GetString());
    }
#endif

    [Theory]
    [InlineData("/token", "4\r\ngran\r\nnot-hex\r\n")]
    [InlineData("/token", "ffffffffffffffffff\r\ngrant_type=password\r\n0\r\n\r\n")]
    [InlineData("/token/revoke", "ffffffffffffffffff\r\ntoken=x\r\n0\r\n\r\n")]
    [InlineData("/session", "4\r\nuser\r\nnot-hex\r\n")]
    public async Task ABrokenChunkedFormIsInvalidRequestInDevelopment(string path, string chunked)
    {
        using var app = RealtimeApplication.With([], "Development");

        var response = await RawHttp.SendAsync(app.ServerAddress, RawHttp.Request(
            [
                "POST " + path + " HTTP/1.1",
                "Host: " + app.ServerAddress.Authority,
                "Content-Type: application/x-www-form-urlencoded",
                "Transfer-Encoding: chunked",
                "Connection: close",
            ],
            Encoding.ASCII.GetBytes(chunked)));

        Assert.Equal(HttpStatusCode.BadRequest, response.Status);
        var error = JsonDocument.Parse(response.Body).RootElement;
        Assert.Equal("invalid_request", error.GetProperty("error").GetString());
        Assert.Equal("The request body is not a valid form or is too large.", error.GetProperty("error_description").GetString());
        Assert.DoesNotContain(app.Logs.GetSnapshot(), record => record.Level >= LogLevel.Error);
    }
}

using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// The <c>.http</c> file is walked top to bottom, as an editor would send it, against a Development app with the
/// default rate limits: every request answers as its title says (a success unless the title names a 4xx status),
/// and a second walk at once does too (no 429), and the file leaves the seeded data as it found it.
/// </summary>
public sealed partial class HttpFileWalkTests
{
    [Fact]
    public async Task EveryRequestOfTheHttpFileAnswersAsItsTitleSaysTwiceInARow()
    {
        // The limits a user has (the test app's are lifted), so that walking the file twice in a minute is proved to fit.
        var limits = new Company.RealtimeApp1.Auth.TokenRateLimitOptions();
        await using var app = RealtimeApplication.With(
            new()
            {
                [$"{Company.RealtimeApp1.Auth.TokenRateLimitOptions.SectionName}:PerClient"] = limits.PerClient.ToString(System.Globalization.CultureInfo.InvariantCulture),
                [$"{Company.RealtimeApp1.Auth.TokenRateLimitOptions.SectionName}:PerUsername"] = limits.PerUsername.ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            "Development");
        var contentRoot = app.Services.GetRequiredService<IWebHostEnvironment>().ContentRootPath;
        var text = File.ReadAllText(Directory.GetFiles(contentRoot, "*.http").Single());
        var requests = Parse(text);
        using var client = app.CreateClient();

        // Every request line of the file was read as a request (none skipped by the parser).
        Assert.Equal(text.Split('\n').Count(line => RequestLine().IsMatch(line)), requests.Count);
        var seeded = await SeededUsersAsync(client);
        foreach (var walk in new[] { 1, 2 })
        {
            var responses = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var request in requests)
            {
                using var message = new HttpRequestMessage(new HttpMethod(request.Method), Substitute(request.Url, responses));
                string? contentType = null;
                foreach (var (name, value) in request.Headers)
                {
                    if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase))
                    {
                        contentType = value;
                    }
                    else
                    {
                        // {{host}} in a header is the app's own origin (a page's Origin).
                        message.Headers.TryAddWithoutValidation(
                            name, Substitute(value, responses).Replace("{{host}}", client.BaseAddress!.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal));
                    }
                }

                if (request.Body is not null)
                {
                    message.Content = new StringContent(Substitute(request.Body, responses), Encoding.UTF8);
                    message.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType ?? "text/plain");
                }

                using var response = await client.SendAsync(message);
                var body = await response.Content.ReadAsStringAsync();
                // Only an error's body is shown: a successful answer may carry a token.
                var where = $"walk {walk}, line {request.Line}: {request.Method} {request.Url} answered {(int)response.StatusCode}"
                    + (response.IsSuccessStatusCode ? "" : $" {body}");
                if (request.ExpectedStatus is { } expected)
                {
                    Assert.True((int)response.StatusCode == expected, $"{where}, not {expected}");
                }
                else
                {
                    Assert.True(response.IsSuccessStatusCode, where);
                }

                if (request.Name is not null)
                {
                    responses[request.Name] = body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
                }
            }
        }

        // The seeded users as the file found them: same passwords, roles, organizations and roles in them.
        Assert.Equal(seeded, await SeededUsersAsync(client));
    }

    /// <summary>Each seeded user's <c>/me</c>, signed in with their seeded password.</summary>
    private static async Task<List<string>> SeededUsersAsync(HttpClient client)
    {
        var users = new List<string>();
        foreach (var name in new[] { "alice", "bob", "carol" })
        {
            using var token = await client.PostAsync("/token", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "password",
                ["username"] = name,
                ["password"] = $"{name}-dev-password",
            }));
            Assert.Equal(HttpStatusCode.OK, token.StatusCode);
            using var me = new HttpRequestMessage(HttpMethod.Get, "/me");
            me.Headers.Authorization = new("Bearer", JsonDocument.Parse(await token.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString());
            using var response = await client.SendAsync(me);
            users.Add(await response.Content.ReadAsStringAsync());
        }

        return users;
    }

    private sealed record HttpFileRequest(int Line, string? Name, int? ExpectedStatus, string Method, string Url, List<(string Name, string Value)> Headers, string? Body);

    /// <summary>Requests of the file: a <c>###</c> title starts one, <c>#</c> lines are comments (<c># @name N</c> names it), then the request line, headers, a blank line and the body.</summary>
    private static List<HttpFileRequest> Parse(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var host = lines.Select(line => HostVariable().Match(line)).First(match => match.Success).Groups[1].Value;
        var requests = new List<HttpFileRequest>();
        for (var i = 0; i < lines.Length; i++)
        {
            if (!lines[i].StartsWith("###", StringComparison.Ordinal))
            {
                continue;
            }

            var title = lines[i];
            string? name = null;
            var j = i + 1;
            for (; j < lines.Length && lines[j].StartsWith('#') && !lines[j].StartsWith("###", StringComparison.Ordinal); j++)
            {
                if (NameComment().Match(lines[j]) is { Success: true } named)
                {
                    name = named.Groups[1].Value;
                }
            }

            if (j >= lines.Length || RequestLine().Match(lines[j]) is not { Success: true } requestLine)
            {
                continue; // an empty request (a title, or a template conditional in place)
            }

            var start = j;
            var headers = new List<(string, string)>();
            for (j++; j < lines.Length && lines[j].Length > 0 && !lines[j].StartsWith("###", StringComparison.Ordinal); j++)
            {
                var colon = lines[j].IndexOf(':', StringComparison.Ordinal);
                headers.Add((lines[j][..colon].Trim(), lines[j][(colon + 1)..].Trim()));
            }

            var body = new List<string>();
            for (j++; j < lines.Length && !lines[j].StartsWith("###", StringComparison.Ordinal); j++)
            {
                body.Add(lines[j]);
            }

            var content = string.Join("\n", body).Trim();
            var expected = ExpectedStatus().Match(title);
            requests.Add(new HttpFileRequest(
                start + 1, name, expected.Success ? int.Parse(expected.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : null,
                requestLine.Groups[1].Value, requestLine.Groups[2].Value.Replace("{{host}}", "", StringComparison.Ordinal).Replace(host, "", StringComparison.Ordinal),
                headers, content.Length == 0 ? null : content));
            i = j - 1;
        }

        return requests;
    }

    /// <summary>Replaces <c>{{name.response.body.$…}}</c> with the value at that JSON path of the named response.</summary>
    private static string Substitute(string text, Dictionary<string, JsonElement> responses) =>
        ResponseVariable().Replace(text, match =>
        {
            var element = responses.TryGetValue(match.Groups[1].Value, out var found)
                ? found
                : throw new Xunit.Sdk.XunitException($"No response named '{match.Groups[1].Value}' before {{{{{match.Value}}}}}.");
            foreach (Match step in PathStep().Matches(match.Groups[2].Value))
            {
                element = step.Groups[1].Success
                    ? element.GetProperty(step.Groups[1].Value)
                    : element[int.Parse(step.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture)];
            }

            return element.ValueKind == JsonValueKind.String ? element.GetString()! : element.GetRawText();
        });

    [GeneratedRegex(@"^@host\s*=\s*(\S+)")]
    private static partial Regex HostVariable();

    [GeneratedRegex(@"^#\s*@name\s+(\S+)")]
    private static partial Regex NameComment();

    [GeneratedRegex(@"^(GET|POST|PUT|PATCH|DELETE) (\S+)")]
    private static partial Regex RequestLine();

    // A title such as "### A wrong password: 400 invalid_grant" says which error the request shows.
    [GeneratedRegex(@"\b(4\d\d)\b")]
    private static partial Regex ExpectedStatus();

    [GeneratedRegex(@"\{\{(\w+)\.response\.body\.\$([^}]*)\}\}")]
    private static partial Regex ResponseVariable();

    [GeneratedRegex(@"\.(\w+)|\[(\d+)\]")]
    private static partial Regex PathStep();
}

using System.Text.Json;
using System.Text.RegularExpressions;
using Company.RealtimeApp1.WebSockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;

namespace Company.RealtimeApp1.Tests;

/// <summary>Every HTTP route the app maps is in its OpenAPI document and walked by its <c>.http</c> file (WebSocket routes aside).</summary>
public sealed class RouteDocumentationTests
{
    [Fact]
    public async Task EveryHttpRouteIsInTheOpenApiDocument()
    {
        await using var app = RealtimeApplication.With([], "Development");
        using var response = await app.CreateClient().GetAsync("/openapi/v1.json");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var described = document.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(operation => $"{operation.Name.ToUpperInvariant()} {path.Name}"))
            .ToHashSet();

        // /health is the framework's health-check endpoint, not an API operation: the .http file walks it.
        var missing = HttpRoutes(app)
            .Where(route => route.Pattern != "/health" && !described.Contains($"{route.Method} {WithoutConstraints(route.Pattern)}"))
            .ToList();

        Assert.True(missing.Count == 0, $"Not in /openapi/v1.json: {string.Join(", ", missing)}");
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesTheBearerSchemeTheFormBodiesAndTheErrorBodies()
    {
        await using var app = RealtimeApplication.With([], "Development");
        using var response = await app.CreateClient().GetAsync("/openapi/v1.json");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = document.RootElement;
        var paths = root.GetProperty("paths");

        var bearer = root.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");
        Assert.Equal(
            ("http", "bearer", "JWT"),
            (bearer.GetProperty("type").GetString(), bearer.GetProperty("scheme").GetString(), bearer.GetProperty("bearerFormat").GetString()));
        Assert.Equal("""[{"Bearer":[]}]""", Compact(paths.GetProperty("/me").GetProperty("get").GetProperty("security")));
        Assert.False(paths.GetProperty("/token").GetProperty("post").TryGetProperty("security", out _));

        string[] Fields(string path, string form)
        {
            var body = paths.GetProperty(path).GetProperty("post").GetProperty("requestBody").GetProperty("content");
            Assert.Equal(["application/x-www-form-urlencoded"], body.EnumerateObject().Select(content => content.Name));
            var schema = body.GetProperty("application/x-www-form-urlencoded").GetProperty("schema");
            if (schema.TryGetProperty("$ref", out var reference))
            {
                Assert.Equal($"#/components/schemas/{form}", reference.GetString());
                schema = root.GetProperty("components").GetProperty("schemas").GetProperty(form);
            }

            return [.. schema.GetProperty("properties").EnumerateObject().Select(field => field.Name)];
        }

        Assert.Equal(["grant_type", "username", "password", "refresh_token"], Fields("/token", "TokenForm"));
        Assert.Equal(["token"], Fields("/token/revoke", "RevokeForm"));
        Assert.Equal(["username", "password"], Fields("/session", "SessionForm"));
        Assert.Equal(["current_password", "new_password"], Fields("/me/password", "PasswordChangeForm"));
        Assert.Equal(
            "#/components/schemas/OAuthError",
            paths.GetProperty("/token").GetProperty("post").GetProperty("responses").GetProperty("400").GetProperty("content")
                .GetProperty("application/json").GetProperty("schema").GetProperty("$ref").GetString());
        Assert.Equal(
            ["error", "error_description"],
            root.GetProperty("components").GetProperty("schemas").GetProperty("OAuthError").GetProperty("properties").EnumerateObject().Select(field => field.Name));
    }

    private static string Compact(JsonElement element) => JsonSerializer.Serialize(element);

    [Fact]
    public async Task EveryHttpRouteIsWalkedByTheHttpFile()
    {
        await using var app = RealtimeApplication.With([]);
        var contentRoot = app.Services.GetRequiredService<IWebHostEnvironment>().ContentRootPath;
        var requests = File.ReadLines(Directory.GetFiles(contentRoot, "*.http").Single())
            .Select(line => Regex.Match(line, @"^(GET|POST|PUT|PATCH|DELETE) \{\{host\}\}([^?\s]*)"))
            .Where(match => match.Success)
            .Select(match => (Method: match.Groups[1].Value, Path: match.Groups[2].Value))
            .ToList();

        var missing = HttpRoutes(app)
            .Where(route => !requests.Any(request => request.Method == route.Method && PatternRegex(route.Pattern).IsMatch(request.Path)))
            .ToList();

        Assert.True(missing.Count == 0, $"Not in the .http file: {string.Join(", ", missing)}");
    }

    /// <summary>
    /// The app's HTTP endpoints, as (method, pattern): the WebSocket endpoints, the OpenAPI document itself and
    /// what is excluded from the description on purpose (the JSON 405s for other methods on /token) left out.
    /// </summary>
    private static List<(string Method, string Pattern)> HttpRoutes(RealtimeApplication app)
    {
        _ = app.ServerAddress;
        return app.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(endpoint => endpoint.Metadata.GetMetadata<WebSocketEndpointMetadata>() is null)
            .Where(endpoint => endpoint.Metadata.GetMetadata<IExcludeFromDescriptionMetadata>() is not { ExcludeFromDescription: true })
            .Where(endpoint => endpoint.RoutePattern.RawText is not null && !endpoint.RoutePattern.RawText.StartsWith("/openapi", StringComparison.Ordinal))
            .SelectMany(endpoint => (endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"])
                .Select(method => (method, "/" + endpoint.RoutePattern.RawText!.Trim('/'))))
            .Distinct()
            .ToList();
    }

    private static string WithoutConstraints(string pattern) => Regex.Replace(pattern, @"\{([^}:]+)(:[^}]*)?\}", "{$1}");

    private static Regex PatternRegex(string pattern) =>
        new("^" + Regex.Replace(Regex.Escape(WithoutConstraints(pattern)), @"\\\{[^}]+}", "[^/]+") + "/?$");
}

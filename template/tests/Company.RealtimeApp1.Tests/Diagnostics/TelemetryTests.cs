using System.Diagnostics;
using Company.RealtimeApp1.Diagnostics;
using Microsoft.AspNetCore.Mvc.Testing;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Company.RealtimeApp1.Tests;

public sealed class TelemetryTests
{
    // A collector that is never there: the OTLP exporter fails quietly, the in-memory exporters beside it see everything.
    private static Dictionary<string, string?> ExportOn() => new()
    {
        [Telemetry.EndpointSetting] = "http://127.0.0.1:4317",
        // The instrumentation's own query masking off, as an operator who wants to see queries would have it:
        // the app's redaction must hold on its own.
        ["OTEL_DOTNET_EXPERIMENTAL_ASPNETCORE_DISABLE_URL_QUERY_REDACTION"] = "true",
    };

    [Fact]
    public async Task NoCredentialReachesAnyExportedSpanOrMetric()
    {
        var spans = new List<Activity>();
        var metrics = new List<MetricSnapshot>();
        using var app = RealtimeApplication.With(ExportOn(), services: services => services
            .ConfigureOpenTelemetryTracerProvider(tracing => tracing.AddInMemoryExporter(spans))
            .ConfigureOpenTelemetryMeterProvider(meters => meters.AddInMemoryExporter(metrics)));
        var (userName, password) = await app.CreateUniqueUserAsync();
        var signedIn = await app.SignInAsync(userName, password);
        var refreshed = await app.RefreshAsync(signedIn.RefreshToken);
        (await app.CreateClient().PostAsync($"/token?password={password}&refresh_token={refreshed.RefreshToken}", null)).Dispose();
        var token = refreshed.AccessToken;
        var ticket = await app.IssueTicketAsync(token);
        var encodedTicket = await app.IssueTicketAsync(token);
        using var session = await app.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = false, BaseAddress = app.ServerAddress })
            .PostAsync("/session", RealtimeApplication.Form(("username", userName), ("password", password)));
        var cookie = session.CookiePair(Handshakes.SessionCookie);
        var refreshCookie = session.CookiePair(Handshakes.RefreshCookie);

        await WelcomedAsync(app, $"{EchoConsumer.Path}?access_token={token}&x=1");
        await WelcomedAsync(app, $"{EchoConsumer.Path}?ticket={ticket}");
        await WelcomedAsync(app, $"{EchoConsumer.Path}?%74icket={encodedTicket}");
        await WelcomedAsync(app, $"{EchoConsumer.Path}?access%5Ftoken={token}");
        await WelcomedAsync(app, EchoConsumer.Path, options =>
        {
            options.SetRequestHeader("Cookie", cookie);
            options.SetRequestHeader("Origin", app.OwnOrigin());
        });

        // A server span ends just after its response is written, so the last handshakes' may still be on their way.
        // Activity listeners are process-wide: the spans of apps that other tests run are left out of the counts.
        var port = app.ServerAddress.Port;
        await Eventually.HoldsAsync(() => Snapshot(spans).Count(span => Path(span, port) == EchoConsumer.Path) == 5);
        var exported = Snapshot(spans);
        Assert.Equal(3, exported.Count(span => Path(span, port) == "/token"));
        // The flush reports false, as the OTLP exporter beside the in-memory one has nowhere to send to; the in-memory one is flushed all the same.
        app.Services.GetRequiredService<MeterProvider>().ForceFlush();
        Assert.Contains(metrics, metric => metric.Name == "realtime.connections.closed");
        Assert.Contains(metrics, metric => metric.Name == "http.server.request.duration");

        string[] secrets = [password, signedIn.AccessToken, signedIn.RefreshToken, token, refreshed.RefreshToken, ticket, encodedTicket, cookie["wsauth_session=".Length..], refreshCookie["wsauth_refresh=".Length..]];
        foreach (var (source, text) in exported.SelectMany(SpanTexts).Concat(metrics.SelectMany(MetricTexts)))
        {
            Assert.False(secrets.Any(secret => text.Contains(secret, StringComparison.Ordinal)), $"A credential was exported in {source}.");
        }

        // The queries are kept, their credentials masked: the names as they were sent, percent-encoded ones included.
        Assert.Contains(exported, span => Query(span) == "?access_token=" + CredentialRedaction.Mask + "&x=1");
        Assert.Contains(exported, span => Query(span) == "?%74icket=" + CredentialRedaction.Mask);
        Assert.Contains(exported, span => Query(span) == "?access%5Ftoken=" + CredentialRedaction.Mask);
        Assert.Contains(exported, span => Query(span) == "?password=" + CredentialRedaction.Mask + "&refresh_token=" + CredentialRedaction.Mask);
    }

    [Fact]
    public async Task TheServiceIsNamedAfterTheAppAndItsLogsAreExportedRedacted()
    {
        var exported = new List<string>();
        using var app = RealtimeApplication.With(ExportOn(), services: services => services
            .ConfigureOpenTelemetryLoggerProvider(logging => logging.AddProcessor(new CapturingLogProcessor(exported))));
        var (userName, password) = await app.CreateUniqueUserAsync();
        var signedIn = await app.SignInAsync(userName, password);

        // A token in a query string, which the request log writes with the path.
        (await app.CreateClient().GetAsync($"/me?access_token={signedIn.AccessToken}")).Dispose();

        var resource = app.Services.GetRequiredService<TracerProvider>().GetResource();
        Assert.Equal("Company.RealtimeApp1", resource.Attributes.Single(attribute => attribute.Key == "service.name").Value);
        string[] texts;
        lock (exported)
        {
            texts = [.. exported];
        }

        Assert.Contains(texts, text => text.Contains("/me?access_token=" + CredentialRedaction.Mask, StringComparison.Ordinal));
        Assert.DoesNotContain(texts, text => text.Contains(signedIn.AccessToken, StringComparison.Ordinal) || text.Contains(password, StringComparison.Ordinal));
    }

    [Fact]
    public void WithoutAnEndpointNothingIsRegistered()
    {
        using var app = RealtimeApplication.With([]);

        Assert.Null(app.Services.GetService<TracerProvider>());
        Assert.Null(app.Services.GetService<MeterProvider>());
    }

    // The address as written, so that a percent-encoded name reaches the server encoded.
    [Fact]
    public void AuthorizationAndCookieHeadersAreNeverExportedAndOtherTagsAreRedacted()
    {
        using var span = new Activity("GET /me")
            .SetTag("http.request.header.authorization", new[] { "Bearer abc.def" })
            .SetTag("http.request.header.cookie", new[] { "theme=dark" })
            .SetTag("http.response.header.set-cookie", new[] { "wsauth_session=abc; path=/" })
            .SetTag("http.request.header.accept", new[] { "text/plain" })
            .SetTag("http.request.header.x-forwarded-for", new[] { "10.0.0.1", "token=T1" })
            .SetTag("url.query", "?ticket=K1&x=1")
            .SetTag("http.response.status_code", 200);

        new CredentialRedactingProcessor().OnEnd(span);

        Assert.Equal(
            ["http.request.header.accept=text/plain", "http.request.header.x-forwarded-for=10.0.0.1,token=[redacted]", "url.query=?ticket=[redacted]&x=1", "http.response.status_code=200"],
            span.TagObjects.Select(tag => tag.Key + "=" + Text(tag.Value)));
    }

    private static async Task WelcomedAsync(RealtimeApplication app, string pathAndQuery, Action<System.Net.WebSockets.ClientWebSocketOptions>? configure = null)
    {
        var socket = new System.Net.WebSockets.ClientWebSocket();
        configure?.Invoke(socket.Options);
        using var timeout = new CancellationTokenSource(TestSocket.Timeout);
        await socket.ConnectAsync(Handshakes.Verbatim(app.WebSocketUri(pathAndQuery)), timeout.Token);
        await using var connected = new TestSocket(socket);
        await connected.ReceiveJsonAsync("welcome");
    }

    private static List<Activity> Snapshot(List<Activity> spans)
    {
        lock (spans)
        {
            return [.. spans];
        }
    }

    private static string? Path(Activity span, int port) =>
        span.GetTagItem("server.port") is int spanPort && spanPort == port ? span.GetTagItem("url.path") as string : null;

    private static string? Query(Activity span) => span.GetTagItem("url.query") as string;

    private static IEnumerable<(string Source, string Text)> SpanTexts(Activity span)
    {
        var source = $"the span '{span.DisplayName}'";
        yield return (source, span.DisplayName);
        yield return (source, span.OperationName);
        yield return (source, span.StatusDescription ?? "");
        foreach (var (key, value) in span.TagObjects)
        {
            yield return ($"{source}, tag {key}", Text(value));
        }

        foreach (var spanEvent in span.Events)
        {
            yield return ($"{source}, event {spanEvent.Name}", spanEvent.Name);
            foreach (var (key, value) in spanEvent.Tags)
            {
                yield return ($"{source}, event {spanEvent.Name}, tag {key}", Text(value));
            }
        }

        foreach (var (key, value) in span.Baggage)
        {
            yield return ($"{source}, baggage {key}", value ?? "");
        }
    }

    private static IEnumerable<(string Source, string Text)> MetricTexts(MetricSnapshot metric)
    {
        foreach (var point in metric.MetricPoints)
        {
            foreach (var (key, value) in point.Tags)
            {
                yield return ($"the metric {metric.Name}, attribute {key}", Text(value));
            }
        }
    }

    private static string Text(object? value) => value switch
    {
        null => "",
        string text => text,
        System.Collections.IEnumerable values => string.Join(",", values.Cast<object?>()),
        _ => value.ToString() ?? "",
    };
}

/// <summary>Keeps the text of every log record the OpenTelemetry logger exports: its message, its attributes, its exception.</summary>
internal sealed class CapturingLogProcessor(List<string> texts) : BaseProcessor<OpenTelemetry.Logs.LogRecord>
{
    public override void OnEnd(OpenTelemetry.Logs.LogRecord data)
    {
        var parts = new List<string?> { data.Body, data.FormattedMessage, data.Exception?.ToString() };
        parts.AddRange((data.Attributes ?? []).Select(attribute => attribute.Value?.ToString()));
        lock (texts)
        {
            texts.AddRange(parts.OfType<string>());
        }
    }
}

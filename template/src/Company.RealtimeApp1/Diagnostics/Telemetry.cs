using System.Diagnostics;
using Company.RealtimeApp1.WebSockets;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Company.RealtimeApp1.Diagnostics;

internal static class Telemetry
{
    /// <summary>The setting (configuration key or environment variable) that turns export on, as the OpenTelemetry SDK names it.</summary>
    public const string EndpointSetting = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>The setting that names the service in what is exported; unset, it is the app's name.</summary>
    public const string ServiceNameSetting = "OTEL_SERVICE_NAME";

    /// <summary>
    /// Traces, metrics and logs as the .NET Aspire service defaults have them (ASP.NET Core, HttpClient, the runtime
    /// and the app's meter; every log record, after the credential redaction), exported over OTLP as the service
    /// <paramref name="serviceName"/> (or <see cref="ServiceNameSetting"/>) when <see cref="EndpointSetting"/> is set.
    /// When it is not, nothing is registered: no listener on any activity source or meter, no log exporter, so a
    /// request costs what it would without telemetry.
    /// </summary>
    public static IServiceCollection AddTelemetry(this IServiceCollection services, IConfiguration configuration, string serviceName)
    {
        if (string.IsNullOrWhiteSpace(configuration[EndpointSetting]))
        {
            return services;
        }

        services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                // OTEL_SERVICE_NAME, read by the SDK's own detector, wins when it is set.
                if (string.IsNullOrWhiteSpace(configuration[ServiceNameSetting]))
                {
                    resource.AddService(serviceName);
                }
            })
            .WithTracing(tracing => tracing
                // First, so that every exporter added after it sees the span already redacted.
                .AddProcessor<CredentialRedactingProcessor>()
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !context.Request.Path.StartsWithSegments("/health"))
                .AddHttpClientInstrumentation())
            .WithMetrics(metrics => metrics
                .AddMeter(RealtimeMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation())
            .WithLogging()
            .UseOtlpExporter();
        return services;
    }
}

/// <summary>
/// Masks credentials in a span before it is exported, with the same rules as the logs (<see cref="CredentialRedaction"/>):
/// <c>url.query</c> carries <c>?access_token=</c> and <c>?ticket=</c> on WebSocket handshakes, and whichever
/// instrumentation recorded headers must not have exported the ones that authenticate.
/// </summary>
internal sealed class CredentialRedactingProcessor : BaseProcessor<Activity>
{
    private static readonly HashSet<string> CredentialHeaders = new(
        ["http.request.header.authorization", "http.request.header.proxy-authorization", "http.request.header.cookie", "http.response.header.set-cookie"],
        StringComparer.OrdinalIgnoreCase);

    public override void OnEnd(Activity data)
    {
        data.DisplayName = CredentialRedaction.Redact(data.DisplayName);
        if (data.StatusDescription is { } description)
        {
            data.SetStatus(data.Status, CredentialRedaction.Redact(description));
        }

        // Redact returns the very string it was given when there is nothing to mask.
        List<KeyValuePair<string, object?>>? changes = null;
        foreach (var (key, value) in data.TagObjects)
        {
            if (CredentialHeaders.Contains(key))
            {
                (changes ??= []).Add(KeyValuePair.Create(key, (object?)null));
            }
            else if (value is string text && CredentialRedaction.Redact(text) is var redacted && !ReferenceEquals(redacted, text))
            {
                (changes ??= []).Add(KeyValuePair.Create(key, (object?)redacted));
            }
            else if (value is string[] texts && texts.Any(t => !ReferenceEquals(CredentialRedaction.Redact(t), t)))
            {
                (changes ??= []).Add(KeyValuePair.Create(key, (object?)Array.ConvertAll(texts, CredentialRedaction.Redact)));
            }
        }

        foreach (var (key, value) in changes ?? [])
        {
            data.SetTag(key, value);
        }
    }
}

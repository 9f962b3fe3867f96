using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Hosting;

/// <summary>
/// Bound from the <c>ForwardedHeaders</c> section: the reverse proxies whose <c>X-Forwarded-For</c> and
/// <c>X-Forwarded-Proto</c> the app believes. The token endpoint's per-client rate limit partitions by the
/// client's address, and the WebSocket Origin check and the session cookie's <c>Secure</c> flag use the
/// request's scheme: behind a proxy both are the proxy's unless it is listed here. Empty (the default):
/// no forwarded header is read.
/// </summary>
public sealed class ForwardedHeadersSettings
{
    public const string SectionName = "ForwardedHeaders";

    /// <summary>Addresses of trusted proxies, such as <c>10.0.0.5</c> or <c>fd00::5</c>.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks of trusted proxies in CIDR notation, such as <c>10.0.0.0/24</c>.</summary>
    public List<string> KnownNetworks { get; set; } = [];

    public bool IsConfigured => KnownProxies.Count > 0 || KnownNetworks.Count > 0;
}

internal static class ForwardedHeadersExtensions
{
    /// <summary>
    /// Binds <see cref="ForwardedHeadersSettings"/> onto ASP.NET Core's <see cref="ForwardedHeadersOptions"/>:
    /// only the listed proxies are trusted (the framework's default of loopback is dropped), and a chain of
    /// them is followed back for as long as each hop is one of them.
    /// </summary>
    public static IServiceCollection AddTrustedProxies(this IServiceCollection services)
    {
        services.AddOptions<ForwardedHeadersSettings>().BindConfiguration(ForwardedHeadersSettings.SectionName)
            .Validate(
                settings => settings.KnownProxies.All(proxy => IPAddress.TryParse(proxy, out _)),
                $"'{ForwardedHeadersSettings.SectionName}:{nameof(ForwardedHeadersSettings.KnownProxies)}' has an entry that is not an IP address.")
            .Validate(
                settings => settings.KnownNetworks.All(network => System.Net.IPNetwork.TryParse(network, out _)),
                $"'{ForwardedHeadersSettings.SectionName}:{nameof(ForwardedHeadersSettings.KnownNetworks)}' has an entry that is not a network in CIDR notation (such as 10.0.0.0/24).")
            .ValidateOnStart();

        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ForwardedHeadersSettings>>((forwarded, trusted) =>
        {
            var settings = trusted.Value;
            if (!settings.IsConfigured)
            {
                return;
            }

            forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            forwarded.ForwardLimit = null;
            forwarded.KnownProxies.Clear();
            forwarded.KnownIPNetworks.Clear();
            foreach (var proxy in settings.KnownProxies)
            {
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            }

            foreach (var network in settings.KnownNetworks)
            {
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });

        return services;
    }

    /// <summary>The forwarded-headers middleware, when trusted proxies are configured; first in the pipeline.</summary>
    public static IApplicationBuilder UseTrustedProxies(this IApplicationBuilder app) =>
        app.ApplicationServices.GetRequiredService<IOptions<ForwardedHeadersSettings>>().Value.IsConfigured
            ? app.UseForwardedHeaders()
            : app;
}

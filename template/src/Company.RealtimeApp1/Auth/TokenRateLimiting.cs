using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Auth;

/// <summary>Bound from <c>RateLimiting:Token</c>: how often <c>/token</c> may be called.</summary>
public sealed class TokenRateLimitOptions
{
    public const string SectionName = "RateLimiting:Token";

    /// <summary>Requests per window from one client address.</summary>
    [Range(1, int.MaxValue)]
    public int PerClient { get; set; } = 60;

    /// <summary>Password-grant requests per window naming one username, from any address.</summary>
    [Range(1, int.MaxValue)]
    public int PerUsername { get; set; } = 10;

    [Range(1, 3600)]
    public int WindowSeconds { get; set; } = 60;

    public TimeSpan Window => TimeSpan.FromSeconds(WindowSeconds);
}

[OptionsValidator]
internal sealed partial class TokenRateLimitOptionsValidator : IValidateOptions<TokenRateLimitOptions>;

internal static class TokenRateLimiting
{
    public const string PerClientPolicy = "token-per-client";

    /// <summary>The names the limits count under (<see cref="ITokenRateLimiters"/>): one address, one username.</summary>
    public const string PerClientLimit = "token-client";
    public const string PerUsernameLimit = "token-username";

    public static IServiceCollection AddTokenRateLimiting(this IServiceCollection services)
    {
        services.AddOptions<TokenRateLimitOptions>().BindConfiguration(TokenRateLimitOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<TokenRateLimitOptions>, TokenRateLimitOptionsValidator>();
        // Per instance, unless the app registered limiters every instance shares (before this, as AddUsers does).
        services.TryAddSingleton<ITokenRateLimiters, InstanceTokenRateLimiters>();
        services.AddSingleton<UsernameRateLimiter>();

        services.AddRateLimiter(limiter =>
        {
            limiter.OnRejected = (context, _) =>
                new(new TooManyRequestsResult(context.Lease).ExecuteAsync(context.HttpContext));

            limiter.AddPolicy(PerClientPolicy, context =>
            {
                // Behind a proxy, list it under ForwardedHeaders (Hosting/ForwardedHeaders.cs) so this is the client's address.
                var client = ClientPartitionKey(context.Connection.RemoteIpAddress);
                var options = context.RequestServices.GetRequiredService<IOptions<TokenRateLimitOptions>>().Value;
                var limiters = context.RequestServices.GetRequiredService<ITokenRateLimiters>();
                return RateLimitPartition.Get(client, partition => limiters.CreateFixedWindow(PerClientLimit, partition, new FixedWindowRateLimiterOptions
                {
                    PermitLimit = options.PerClient,
                    Window = options.Window,
                    QueueLimit = 0,
                }));
            });
        });

        return services;
    }

    /// <summary>
    /// The rate-limit partition of a client address. One IPv6 subscriber is normally given a whole /64
    /// and can pick any address in it, so an IPv6 address counts as its /64; an IPv4 address (mapped to
    /// IPv6 by a dual-stack socket or not) counts as itself.
    /// </summary>
    public static string ClientPartitionKey(IPAddress? address)
    {
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes).ToString() + "/64";
    }
}

/// <summary>Limits password attempts per username, whichever addresses (and, with a backplane, instances) they come from.</summary>
internal sealed class UsernameRateLimiter(ITokenRateLimiters limiters, IOptions<TokenRateLimitOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(
        normalizedUsername => RateLimitPartition.Get(normalizedUsername, partition => limiters.CreateFixedWindow(
            TokenRateLimiting.PerUsernameLimit, partition, new FixedWindowRateLimiterOptions
            {
                PermitLimit = options.Value.PerUsername,
                Window = options.Value.Window,
                QueueLimit = 0,
            })));

    public ValueTask<RateLimitLease> AcquireAsync(string normalizedUsername) => _limiter.AcquireAsync(normalizedUsername);

    public void Dispose() => _limiter.Dispose();
}

/// <summary><c>429</c> with <c>Retry-After</c> and an OAuth-style JSON error body.</summary>
internal sealed class TooManyRequestsResult(TimeSpan? retryAfter) : IResult
{
    public TooManyRequestsResult(RateLimitLease lease)
        : this(lease.TryGetMetadata(MetadataName.RetryAfter, out var delay) ? delay : null)
    {
    }

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        if (retryAfter is { } delay)
        {
            var seconds = Math.Max(1, (int)Math.Ceiling(delay.TotalSeconds));
            httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }

        return httpContext.Response.WriteAsJsonAsync(OAuthError.RateLimited);
    }
}

using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Company.RealtimeApp1.WebSockets.Redis;

/// <summary>
/// Whether instances share Redis: only when <c>ConnectionStrings:Redis</c> is set, so that one instance
/// runs with nothing installed. The one <see cref="ConnectionMultiplexer"/> every Redis service shares is
/// made on first use, and does not stop the app from starting while Redis is unreachable: it keeps
/// reconnecting, and <c>/health</c> answers 503 meanwhile.
/// </summary>
internal static class RedisBackplane
{
    public const string ConnectionStringName = "Redis";

    public static bool IsConfigured(IServiceProvider provider) =>
        !string.IsNullOrWhiteSpace(provider.GetRequiredService<IConfiguration>().GetConnectionString(ConnectionStringName));

    /// <summary>
    /// The shared multiplexer, the health check, and, when <see cref="IsConfigured"/>, the Redis message bus,
    /// ticket store, connection leases and rate limits in place of the in-memory ones <c>AddRealtime</c> registers after this.
    /// </summary>
    public static IServiceCollection AddRedisBackplane(this IServiceCollection services)
    {
        services.AddSingleton<IConnectionMultiplexer>(Connect);
        services.AddSingleton<RedisMessageBus>();
        services.AddSingleton<RedisWebSocketTicketStore>();
        services.AddSingleton<RedisConnectionLeases>();
        services.AddSingleton<RedisRateLimitStore>();
        services.AddSingleton<RedisPresenceStore>();
        // Chosen when first resolved, once configuration is final (a test host sets it late).
        services.AddSingleton<IMessageBus>(provider => IsConfigured(provider)
            ? provider.GetRequiredService<RedisMessageBus>()
            : provider.GetRequiredService<InMemoryMessageBus>());
        // Tickets in Redis, so that one issued here opens a socket on any instance.
        services.AddSingleton<IWebSocketTicketStore>(provider => IsConfigured(provider)
            ? provider.GetRequiredService<RedisWebSocketTicketStore>()
            : provider.GetRequiredService<InMemoryWebSocketTicketStore>());
        // The per-user cap counts connections on every instance through leases in Redis.
        services.AddSingleton<IConnectionLeases>(provider => IsConfigured(provider)
            ? provider.GetRequiredService<RedisConnectionLeases>()
            : provider.GetRequiredService<LocalConnectionLeases>());
        // Rate limits (tickets per user, and the app's own) count on every instance together.
        services.AddSingleton<IRateLimitStore>(provider => IsConfigured(provider)
            ? provider.GetRequiredService<RedisRateLimitStore>()
            : provider.GetRequiredService<InMemoryRateLimitStore>());
        // Who is online on a stream, on every instance.
        services.AddSingleton<IPresenceStore>(provider => IsConfigured(provider)
            ? provider.GetRequiredService<RedisPresenceStore>()
            : provider.GetRequiredService<LocalPresenceStore>());
        services.AddSingleton<RedisHealthCheck>();
        services.AddHostedService<RedisOutageRecovery>();
        services.AddHealthChecks();
        services.AddSingleton<IConfigureOptions<HealthCheckServiceOptions>>(provider =>
            new ConfigureOptions<HealthCheckServiceOptions>(health =>
            {
                if (IsConfigured(provider))
                {
                    health.Registrations.Add(new HealthCheckRegistration(
                        "redis", checks => checks.GetRequiredService<RedisHealthCheck>(), HealthStatus.Unhealthy, ["ready"]));
                }
            }));
        return services;
    }

    private static ConnectionMultiplexer Connect(IServiceProvider provider)
    {
        var configuration = ConfigurationOptions.Parse(
            provider.GetRequiredService<IConfiguration>().GetConnectionString(ConnectionStringName)!);
        configuration.AbortOnConnectFail = false;
        configuration.ClientName ??= typeof(RedisBackplane).Assembly.GetName().Name;
        // Its losses and recoveries are logged once each by RedisOutageRecovery.
        return ConnectionMultiplexer.Connect(configuration);
    }
}

/// <summary>Unhealthy while Redis does not answer a PING: this instance can neither reach the others nor hear them.</summary>
internal sealed class RedisHealthCheck(IConnectionMultiplexer redis) : IHealthCheck
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(2);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!redis.IsConnected)
        {
            return HealthCheckResult.Unhealthy("Redis is unreachable.");
        }

        try
        {
            await redis.GetDatabase().PingAsync().WaitAsync(Timeout, cancellationToken);
            return HealthCheckResult.Healthy();
        }
        catch (Exception exception) when (exception is RedisException or TimeoutException)
        {
            return HealthCheckResult.Unhealthy("Redis does not answer.");
        }
    }
}

using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
#if (redis)
using Company.RealtimeApp1.WebSockets.Redis;
#endif

namespace Company.RealtimeApp1.WebSockets;

public static class RealtimeServiceCollectionExtensions
{
    /// <summary>
    /// The WebSocket machinery: options, the local hub, the connection registry, the message bus and the
    /// publisher that puts messages on it; the handshake's credentials, tickets and origin check, and its failure
    /// contract. The bus, the tickets and the per-user count of connections live in this instance's memory,
    /// unless a backplane registered here first replaces them with services every instance shares.
    /// </summary>
    public static IServiceCollection AddRealtime(this IServiceCollection services, Action<RealtimeOptions>? configure = null)
    {
        var realtime = services.AddOptions<RealtimeOptions>().BindConfiguration(RealtimeOptions.SectionName).ValidateOnStart();
        if (configure is not null)
        {
            realtime.Configure(configure);
        }

        services.AddSingleton<IValidateOptions<RealtimeOptions>, RealtimeOptionsValidator>();
        services.AddSingleton<RealtimeMetrics>();
        services.AddSingleton<StreamHub>();
        services.AddSingleton<ConnectionRegistry>();
        services.AddSingleton<ConsumerHost>();
        services.AddSingleton<ControlMessages>();
#if (redis)
        // Redis carries messages, tickets, connection leases and rate limits between instances when
        // ConnectionStrings:Redis is set; else one instance serves alone, with the in-memory services below.
        services.AddRedisBackplane();
#endif
        services.AddSingleton<InMemoryMessageBus>();
        services.TryAddSingleton<IMessageBus>(provider => provider.GetRequiredService<InMemoryMessageBus>());
        services.AddSingleton<StreamPublisher>();
        services.AddOptions<ConnectionLeaseOptions>().BindConfiguration(ConnectionLeaseOptions.SectionName)
            .Validate(leases => leases.RenewInterval < leases.Duration,
                $"'{ConnectionLeaseOptions.SectionName}:{nameof(ConnectionLeaseOptions.RenewInterval)}' must be shorter than its '{nameof(ConnectionLeaseOptions.Duration)}'.")
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ConnectionLeaseOptions>, ConnectionLeaseOptionsValidator>();
        services.AddSingleton<LocalConnectionLeases>();
        services.TryAddSingleton<IConnectionLeases>(provider => provider.GetRequiredService<LocalConnectionLeases>());
        services.AddSingleton<ConnectionLeaseRenewal>();
        services.AddHostedService(provider => provider.GetRequiredService<ConnectionLeaseRenewal>());
        services.AddSingleton<ConnectionRevocations>();
        services.AddHostedService(provider => provider.GetRequiredService<ConnectionRevocations>());
        services.AddHostedService<ConnectionExpiry>();
        services.AddSingleton<ConnectionAuthorityChecks>();
        services.AddSingleton<ConnectionRecheck>();
        services.AddHostedService(provider => provider.GetRequiredService<ConnectionRecheck>());
        services.AddSingleton<StreamCatchUp>();
        services.AddOptions<PresenceOptions>().BindConfiguration(PresenceOptions.SectionName)
            .Validate(presence => presence.RenewInterval > TimeSpan.Zero && presence.RenewInterval < presence.Lifetime,
                $"'{PresenceOptions.SectionName}:{nameof(PresenceOptions.RenewInterval)}' must be positive and shorter than its '{nameof(PresenceOptions.Lifetime)}'.")
            .ValidateOnStart();
        services.AddSingleton<LocalPresenceStore>();
        services.TryAddSingleton<IPresenceStore>(provider => provider.GetRequiredService<LocalPresenceStore>());
        services.AddSingleton<StreamPresence>();
        services.AddHostedService(provider => provider.GetRequiredService<StreamPresence>());
        services.AddHostedService<StreamHeadCheck>();
        services.AddHostedService<ConnectionShutdown>();

        services.AddSingleton<IValidateOptions<RealtimeOptions>, AllowedOriginsValidator>();
        services.AddSingleton<WebSocketOriginPolicy>();
        services.AddSingleton<HandshakeCredentials>();
        services.AddSingleton<IPostConfigureOptions<JwtBearerOptions>, HandshakeAuthentication>();
        services.AddSingleton<InMemoryRateLimitStore>();
        services.TryAddSingleton<IRateLimitStore>(provider => provider.GetRequiredService<InMemoryRateLimitStore>());
        services.AddSingleton<TicketRateLimiter>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<InMemoryWebSocketTicketStore>();
        services.TryAddSingleton<IWebSocketTicketStore>(provider => provider.GetRequiredService<InMemoryWebSocketTicketStore>());
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, WebSocketAuthorizationResultHandler>();
        services.AddSingleton<IAuthorizationHandler, ConsumerAccessHandler>();
        return services;
    }

    /// <summary>
    /// Registers <typeparamref name="TConsumer"/> as a WebSocket endpoint at <paramref name="pattern"/>, mapped by
    /// <see cref="MapRealtime"/>; <paramref name="endpoint"/> adds what any endpoint may have (an authorization
    /// policy, say). This one line is all a new consumer needs outside its own files.
    /// </summary>
    public static IServiceCollection AddConsumer<TConsumer>(
        this IServiceCollection services, [StringSyntax("Route")] string pattern, Action<RouteHandlerBuilder>? endpoint = null)
        where TConsumer : WebSocketConsumer =>
        services.AddSingleton(new ConsumerEndpoint(routes =>
        {
            var mapped = routes.MapConsumer<TConsumer>(pattern);
            endpoint?.Invoke(mapped);
        }));

    /// <summary>Maps every consumer registered with <see cref="AddConsumer"/>, and <c>POST /ws/ticket</c>.</summary>
    public static IEndpointRouteBuilder MapRealtime(this IEndpointRouteBuilder routes)
    {
        foreach (var consumer in routes.ServiceProvider.GetServices<ConsumerEndpoint>())
        {
            consumer.Map(routes);
        }

        return routes.MapWebSocketTickets();
    }

    /// <summary>
    /// Maps <typeparamref name="TConsumer"/> as a WebSocket endpoint. It is an ordinary endpoint: it
    /// requires an authenticated user, and further policies chain on as usual.
    /// </summary>
    public static RouteHandlerBuilder MapConsumer<TConsumer>(this IEndpointRouteBuilder routes, [StringSyntax("Route")] string pattern)
        where TConsumer : WebSocketConsumer
    {
        var endpoint = routes.Map(pattern, (HttpContext context, ConsumerHost host) => host.RunAsync<TConsumer>(context))
            .WithMetadata(WebSocketEndpointMetadata.Instance, new WebSocketConsumerMetadata(typeof(TConsumer)))
            .RequireAuthorization()
            .ExcludeFromDescription();
        if (typeof(IAuthorizingConsumer).IsAssignableFrom(typeof(TConsumer)))
        {
            // The consumer's own access rule (WebSocketConsumer<TResource>), checked with the endpoint's other policies.
            endpoint.RequireAuthorization(policy => policy.RequireAuthenticatedUser()
                .AddRequirements(new ConsumerAccessRequirement(ConsumerHost.Create<TConsumer>)));
        }

        return endpoint;
    }
}

/// <summary>A consumer registered with <c>AddConsumer</c>, waiting to be mapped.</summary>
internal sealed record ConsumerEndpoint(Action<IEndpointRouteBuilder> Map);

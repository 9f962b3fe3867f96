using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Realtime;

internal static class RealtimeServiceCollectionExtensions
{
    /// <summary>The WebSocket machinery: options, the local hub, the connection registry and an in-memory bus.</summary>
    public static IServiceCollection AddRealtime(this IServiceCollection services)
    {
        services.AddOptions<RealtimeOptions>().BindConfiguration(RealtimeOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<RealtimeOptions>, RealtimeOptionsValidator>();
        services.AddSingleton<StreamHub>();
        services.AddSingleton<ConnectionRegistry>();
        services.AddSingleton<ConsumerHost>();
        services.TryAddSingleton<IMessageBus, InMemoryMessageBus>();
        return services;
    }

    /// <summary>
    /// Maps <typeparamref name="TConsumer"/> as a WebSocket endpoint. It is an ordinary endpoint: it
    /// requires an authenticated user, and further policies chain on as usual.
    /// </summary>
    public static RouteHandlerBuilder MapConsumer<TConsumer>(this IEndpointRouteBuilder routes, [StringSyntax("Route")] string pattern)
        where TConsumer : WebSocketConsumer =>
        routes.Map(pattern, (HttpContext context, ConsumerHost host) => host.RunAsync<TConsumer>(context))
            .WithMetadata(WebSocketEndpointMetadata.Instance)
            .RequireAuthorization()
            .ExcludeFromDescription();
}

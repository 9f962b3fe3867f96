using Company.RealtimeApp1.Realtime;

namespace Company.RealtimeApp1.Consumers;

internal static class ConsumersServiceCollectionExtensions
{
    public static IServiceCollection AddConsumers(this IServiceCollection services)
    {
        services.AddSingleton<UserNotifications>();
        return services;
    }

    /// <summary>The example consumers' WebSocket endpoints and their HTTP APIs.</summary>
    public static IEndpointRouteBuilder MapConsumers(this IEndpointRouteBuilder routes)
    {
        routes.MapConsumer<NotificationConsumer>("/ws/notifications");
        return routes;
    }
}

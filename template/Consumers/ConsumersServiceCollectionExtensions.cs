using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.Realtime;

namespace Company.RealtimeApp1.Consumers;

internal static class ConsumersServiceCollectionExtensions
{
    public static IServiceCollection AddConsumers(this IServiceCollection services)
    {
        services.AddSingleton<PublishedMessageLimit>();
        services.AddSingleton<UserNotifications>();
        services.AddSingleton<OrganizationEvents>();
        services.AddSingleton<IConnectionAuthority, OrganizationStreamAuthority>();
        return services;
    }

    /// <summary>The example consumers' WebSocket endpoints and their HTTP APIs.</summary>
    public static IEndpointRouteBuilder MapConsumers(this IEndpointRouteBuilder routes)
    {
        routes.MapConsumer<NotificationConsumer>("/ws/notifications");
        routes.MapConsumer<OrganizationEventsConsumer>("/ws/events/{orgId}").RequireAuthorization(OrganizationPolicies.Member);
        routes.MapNotificationsApi();
        routes.MapOrganizationsApi();
        return routes;
    }
}

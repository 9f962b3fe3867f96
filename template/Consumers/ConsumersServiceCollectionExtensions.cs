using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.Realtime;

namespace Company.RealtimeApp1.Consumers;

internal static class ConsumersServiceCollectionExtensions
{
    public static IServiceCollection AddConsumers(this IServiceCollection services)
    {
        services.AddSingleton<PublishedMessageLimit>();
        services.AddConsumer<NotificationConsumer>("/ws/notifications");
        services.AddConsumer<OrganizationEventsConsumer>("/ws/events/{orgId}", endpoint => endpoint.RequireAuthorization(OrganizationPolicies.Member));
        services.AddSingleton<UserNotifications>();
        services.AddSingleton<OrganizationEvents>();
        services.AddSingleton<IConnectionAuthority, OrganizationStreamAuthority>();
        return services;
    }

    /// <summary>The example consumers' HTTP APIs.</summary>
    public static IEndpointRouteBuilder MapConsumerApis(this IEndpointRouteBuilder routes)
    {
        routes.MapNotificationsApi();
        routes.MapOrganizationsApi();
        return routes;
    }
}

using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.Realtime;
using Microsoft.Extensions.Options;

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
        services.AddOptions<OrganizationEventsOptions>().BindConfiguration(OrganizationEventsOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<OrganizationEventsOptions>, OrganizationEventsOptionsValidator>();
        return services;
    }

    /// <summary>The example consumers' HTTP APIs.</summary>
    public static IEndpointRouteBuilder MapConsumerApis(this IEndpointRouteBuilder routes)
    {
        routes.MapNotificationsApi();
        routes.MapOrganizationEventsApi();
        return routes;
    }
}

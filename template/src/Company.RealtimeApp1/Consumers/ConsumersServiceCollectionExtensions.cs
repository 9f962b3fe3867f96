#if (examples)
using Company.RealtimeApp1.WebSockets;
using Microsoft.Extensions.Options;

#endif

namespace Company.RealtimeApp1.Consumers;

/// <summary>
/// The app's consumers, registered in one place: a consumer is a class in this folder and one line here
/// (<c>services.AddConsumer&lt;T&gt;("/ws/…")</c>); <c>app.MapRealtime()</c> maps every one of them.
/// </summary>
internal static class ConsumersServiceCollectionExtensions
{
    public static IServiceCollection AddConsumers(this IServiceCollection services)
    {
#if (examples)
        services.AddSingleton<PublishedMessageLimit>();
        services.AddConsumer<NotificationConsumer>("/ws/notifications");
        services.AddConsumer<OrganizationEventsConsumer>("/ws/events/{orgId}");
        services.AddSingleton<UserNotifications>();
        services.AddSingleton<OrganizationEvents>();
        services.AddOptions<OrganizationEventsOptions>().BindConfiguration(OrganizationEventsOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<OrganizationEventsOptions>, OrganizationEventsOptionsValidator>();
#else
        // Your consumers, one line each (the README's "Adding a consumer" walks through one), for example
        // services.AddConsumer<MyConsumer>("/ws/my"); with `using Company.RealtimeApp1.WebSockets;`
#endif
        return services;
    }

    /// <summary>The consumers' HTTP APIs (publishing, history).</summary>
    public static IEndpointRouteBuilder MapConsumerApis(this IEndpointRouteBuilder routes)
    {
#if (examples)
        routes.MapNotificationsApi();
        routes.MapOrganizationEventsApi();
#endif
        return routes;
    }
}

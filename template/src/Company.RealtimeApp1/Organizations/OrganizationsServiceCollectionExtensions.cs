using Company.RealtimeApp1.WebSockets;
using Microsoft.AspNetCore.Authorization;

namespace Company.RealtimeApp1.Organizations;

internal static class OrganizationsServiceCollectionExtensions
{
    /// <summary>
    /// Organization administration, the membership policies (<see cref="OrganizationPolicies"/>), and the
    /// authority of a membership over the organization's streams.
    /// </summary>
    public static IServiceCollection AddOrganizations(this IServiceCollection services)
    {
        services.AddScoped<OrganizationAdministration>();
        services.AddSingleton<OrganizationMemberships>();
        services.AddSingleton<IAuthorizationHandler, OrganizationMembershipHandler>();
        services.AddAuthorizationBuilder().AddOrganizationPolicies();
        services.AddSingleton<IConnectionAuthority, OrganizationStreamAuthority>();
        return services;
    }

    /// <summary>The members API: <c>/api/orgs/{orgId}/members</c>.</summary>
    public static IEndpointRouteBuilder MapOrganizations(this IEndpointRouteBuilder routes)
    {
        routes.MapOrganizationMembersApi();
        return routes;
    }
}

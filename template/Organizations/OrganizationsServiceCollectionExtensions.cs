using Microsoft.AspNetCore.Authorization;

namespace Company.RealtimeApp1.Organizations;

internal static class OrganizationsServiceCollectionExtensions
{
    /// <summary>Organization administration and the membership policies (<see cref="OrganizationPolicies"/>).</summary>
    public static IServiceCollection AddOrganizations(this IServiceCollection services)
    {
        services.AddScoped<OrganizationAdministration>();
        services.AddSingleton<IAuthorizationHandler, OrganizationMembershipHandler>();
        services.AddAuthorizationBuilder().AddOrganizationPolicies();
        return services;
    }
}

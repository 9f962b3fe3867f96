namespace Company.RealtimeApp1.Organizations;

internal static class OrganizationsServiceCollectionExtensions
{
    public static IServiceCollection AddOrganizations(this IServiceCollection services)
    {
        services.AddScoped<OrganizationAdministration>();
        return services;
    }
}

using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Company.RealtimeApp1.Data;

internal static class DatabaseServiceCollectionExtensions
{
    public const string ConnectionStringName = "Default";

    /// <summary>The EF Core context, the log of stored streams, and a health check that the database answers.</summary>
    public static IServiceCollection AddDatabase(this IServiceCollection services)
    {
        // Pooled: a handshake or a publish borrows a context instead of building one.
        services.AddDbContextPool<AppDbContext>((provider, options) =>
        {
            var connectionString = provider.GetRequiredService<IConfiguration>().GetConnectionString(ConnectionStringName)
                ?? throw new InvalidOperationException($"Set 'ConnectionStrings:{ConnectionStringName}' (for example '{ExampleConnectionString}').");
            UseProvider(options, connectionString);
            // AppDbContext applies the entity configurations of the assembly (a consumer's stored messages); an
            // app with none yet is not worth a warning at every start.
            options.ConfigureWarnings(warnings => warnings.Ignore(CoreEventId.NoEntityTypeConfigurationsWarning));
        });
        services.AddStreamStore();
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);
        return services;
    }

    // The one place that chooses the database (`dotnet new wsauth --database`).
#if (UsePostgres)
    private const string ExampleConnectionString = "Host=localhost;Port=5432;Database=realtime;Username=realtime;Password=…";

    private static void UseProvider(DbContextOptionsBuilder options, string connectionString) =>
        options.UseNpgsql(connectionString);
#else
    private const string ExampleConnectionString = "Data Source=app.db";

    private static void UseProvider(DbContextOptionsBuilder options, string connectionString) =>
        options.UseSqlite(connectionString).AddInterceptors(new SqlitePragmas());
#endif
}

internal sealed class DatabaseHealthCheck(AppDbContext db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await db.Database.CanConnectAsync(cancellationToken)
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("The database does not answer.");
}

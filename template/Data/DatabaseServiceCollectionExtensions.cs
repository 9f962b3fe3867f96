using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Company.RealtimeApp1.Data;

internal static class DatabaseServiceCollectionExtensions
{
    public const string ConnectionStringName = "Default";

    /// <summary>The EF Core context over SQLite, the store of its stream messages, and a health check that the database answers.</summary>
    public static IServiceCollection AddDatabase(this IServiceCollection services)
    {
        // Pooled: a handshake or a publish borrows a context instead of building one.
        services.AddDbContextPool<AppDbContext>((provider, options) =>
        {
            var connectionString = provider.GetRequiredService<IConfiguration>().GetConnectionString(ConnectionStringName)
                ?? throw new InvalidOperationException(
                    $"Set 'ConnectionStrings:{ConnectionStringName}' (for example 'Data Source=app.db').");
            options.UseSqlite(connectionString).AddInterceptors(new SqlitePragmas());
        });
        services.AddStreamStore<AppDbContext>();
        services.AddSingleton<StoredStreamServices>();
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);
        return services;
    }
}

internal sealed class DatabaseHealthCheck(AppDbContext db) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await db.Database.CanConnectAsync(cancellationToken)
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Unhealthy("The database does not answer.");
}

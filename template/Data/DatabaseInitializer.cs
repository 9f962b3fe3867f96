using System.Data.Common;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.Users;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Company.RealtimeApp1.Data;

/// <summary>Bound from the <c>Seed</c> section; used in Development only.</summary>
public sealed class SeedOptions
{
    public const string SectionName = "Seed";

    public List<SeedUser> Users { get; set; } = [];

    public List<SeedOrganization> Organizations { get; set; } = [];
}

public sealed class SeedUser
{
    public string UserName { get; set; } = "";

    public string Password { get; set; } = "";

    public List<string> Roles { get; set; } = [];
}

public sealed class SeedOrganization
{
    public string Slug { get; set; } = "";

    public string Name { get; set; } = "";

    public List<SeedMember> Members { get; set; } = [];
}

public sealed class SeedMember
{
    public string UserName { get; set; } = "";

    public string Role { get; set; } = OrganizationRoleNames.Member;
}

internal static partial class DatabaseInitializer
{
    /// <summary>Several instances starting at once seed at once; an attempt that lost a race to another tries again.</summary>
    private const int SeedAttempts = 3;

    /// <summary>
    /// Applies pending migrations and, in Development, adds the seed users and organizations that are missing.
    /// Returns false, having logged why in one line that names the setting, when the database cannot be used.
    /// </summary>
    /// <remarks>
    /// Instances may start together against one database: EF Core's <c>MigrateAsync</c> holds a migration lock
    /// (a lock table on SQLite, a table lock on PostgreSQL), so one applies the migrations while the others wait
    /// and then find nothing to do; the seed and the sign-in decoy add only what is missing and take a unique
    /// index's refusal as "another instance added it".
    /// </remarks>
    public static async Task<bool> InitializeDatabaseAsync(this WebApplication app)
    {
        try
        {
            await using (var scope = app.Services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
                await CreateMigrationHistoryAsync(db);
                await db.Database.MigrateAsync();
                await SignInDecoy.EnsureAsync(db);
            }

            if (app.Environment.IsDevelopment())
            {
                var seed = app.Configuration.GetSection(SeedOptions.SectionName).Get<SeedOptions>() ?? new SeedOptions();
                await SeedAsync(app.Services, seed);
            }

            return true;
        }
        catch (DbException exception)
        {
            // The message, not the exception: a stack trace says nothing more to whoever starts the app, and
            // neither message names a password.
            Log.DatabaseUnavailable(
                app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DatabaseInitializer)),
                DatabaseServiceCollectionExtensions.ConnectionStringName,
                exception.Message);
            return false;
        }
    }

    /// <summary>
    /// Npgsql's migrator reads the history table before it creates it, and logs the failed read of a new
    /// database as an error (npgsql/efcore.pg#3407) that a command would print; created first, it is there to read.
    /// </summary>
    private static async Task CreateMigrationHistoryAsync(AppDbContext db)
    {
        var history = db.GetService<IHistoryRepository>();
        if (!await history.ExistsAsync())
        {
            await history.CreateIfNotExistsAsync();
        }
    }

    /// <summary>Each attempt in a fresh context: one that lost a race left the loser's rows in its change tracker.</summary>
    private static async Task SeedAsync(IServiceProvider services, SeedOptions seed)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var scope = services.CreateAsyncScope();
            try
            {
                await SeedOnceAsync(scope.ServiceProvider, seed);
                return;
            }
            catch (Exception exception) when (attempt < SeedAttempts && exception is DbUpdateException or SeedStepFailedException)
            {
                // Another instance added a row this one was adding (or Identity saw its name taken): the next
                // attempt finds it there. A step that fails for another reason fails again, on the last attempt.
            }
        }
    }

    private static async Task SeedOnceAsync(IServiceProvider services, SeedOptions seed)
    {
        var users = services.GetRequiredService<UserAdministration>();
        var organizations = services.GetRequiredService<OrganizationAdministration>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DatabaseInitializer));

        foreach (var user in seed.Users)
        {
            var result = await users.EnsureUserAsync(user.UserName, user.Password, user.Roles);
            if (!result.Succeeded)
            {
                throw new SeedStepFailedException(
                    $"Could not seed user '{user.UserName}': {string.Join(" ", result.Errors.Select(e => e.Description))}");
            }
        }

        foreach (var organization in seed.Organizations)
        {
            var created = await organizations.EnsureOrganizationAsync(organization.Slug, organization.Name);
            if (created.Error is { } error)
            {
                throw new SeedStepFailedException($"Could not seed organization '{organization.Slug}': {error}");
            }

            foreach (var member in organization.Members)
            {
                if (!OrganizationRoleNames.TryParse(member.Role, out var role))
                {
                    throw new InvalidOperationException($"Seed member '{member.UserName}' of '{organization.Slug}' has an unknown role.");
                }

                var joined = await organizations.SetMembershipAsync(organization.Slug, member.UserName, role);
                if (joined.Error is { } memberError)
                {
                    throw new SeedStepFailedException($"Could not seed a member of '{organization.Slug}': {memberError}");
                }
            }
        }

        Log.Seeded(logger, seed.Users.Count, seed.Organizations.Count);
    }

    private sealed class SeedStepFailedException(string message) : InvalidOperationException(message);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Development seed applied: {UserCount} users, {OrganizationCount} organizations")]
        public static partial void Seeded(ILogger logger, int userCount, int organizationCount);

        [LoggerMessage(2, LogLevel.Critical, "The database set in 'ConnectionStrings:{Name}' cannot be used, so the app stops: {Reason}")]
        public static partial void DatabaseUnavailable(ILogger logger, string name, string reason);
    }
}

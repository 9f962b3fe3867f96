using System.Data.Common;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.Users;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
#if (UsePostgres)
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
#endif

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
    /// <summary>Several instances starting at once seed at once; a step that lost a race to another tries again.</summary>
    private const int SeedAttempts = 3;

    /// <summary>
    /// Applies pending migrations and, in Development, adds the seed users, organizations and memberships that are
    /// missing; one that exists is left as an administrator made it (a promoted member stays promoted).
    /// Returns false, having logged why in one line that names the setting, when the database cannot be used.
    /// </summary>
    /// <remarks>
    /// Instances may start together against one database (on PostgreSQL, one that each may find missing and create,
    /// see <see cref="CreateDatabaseIfMissingAsync"/>): one applies the migrations while the others wait
    /// and then find nothing to do (see <see cref="MigrateAsync"/>); the seed and the sign-in decoy add only what is missing and take a unique
    /// index's refusal as "another instance added it".
    /// </remarks>
    public static Task<bool> InitializeDatabaseAsync(this WebApplication app) => UseDatabaseAsync(app, async () =>
    {
        await using (var scope = app.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            await CreateDatabaseIfMissingAsync(db);
            await CreateMigrationHistoryAsync(db);
            await MigrateAsync(db);
            await SignInDecoy.EnsureAsync(db);
        }

        if (app.Environment.IsDevelopment())
        {
            await SeedAsync(app.Services, app.Configuration.GetSection(SeedOptions.SectionName).Get<SeedOptions>() ?? new SeedOptions());
        }
    });

    /// <summary>
    /// What a command needs of <see cref="InitializeDatabaseAsync"/>, quickly: the migrations, only when one is
    /// pending (<c>Migrate</c> would take the migration lock and compare the model with the migrations' to find
    /// nothing to do). The sign-in decoy and the Development seed are the server's, at its start: a command that
    /// seeded would bring back the seeded user an earlier command deleted.
    /// </summary>
    public static Task<bool> PrepareDatabaseForCommandAsync(this WebApplication app) => UseDatabaseAsync(app, async () =>
    {
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        await CreateDatabaseIfMissingAsync(db);
        await CreateMigrationHistoryAsync(db);
        if ((await db.Database.GetPendingMigrationsAsync()).Any())
        {
            await MigrateAsync(db);
        }
    });

    /// <summary>Runs <paramref name="use"/>; false, having logged why in one line that names the setting, when the database cannot be used.</summary>
    private static async Task<bool> UseDatabaseAsync(WebApplication app, Func<Task> use)
    {
        try
        {
            await use();
            return true;
        }
        // Npgsql's execution strategy wraps what it took for a transient failure in an InvalidOperationException.
        catch (Exception exception) when ((exception as DbException ?? exception.InnerException as DbException) is { } failure)
        {
            // The provider's message, not the exception: a stack trace says nothing more to whoever starts the
            // app, and neither provider's message repeats a password.
            return Unusable(app, failure.Message);
        }
        catch (ArgumentException)
        {
            // A connection string the provider cannot parse. Its message may quote a part of it, a password
            // perhaps, so it is not repeated.
            return Unusable(app, "it is not a connection string the provider can read.");
        }
    }

    private static bool Unusable(WebApplication app, string reason)
    {
        Log.DatabaseUnavailable(
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DatabaseInitializer)),
            DatabaseServiceCollectionExtensions.ConnectionStringName,
            reason);
        return false;
    }

    /// <summary>
    /// Npgsql's migrator reads the history table before it creates it, and logs the failed read of a new
    /// database as an error (npgsql/efcore.pg#3407) that a command would print; created first (<c>CREATE TABLE
    /// IF NOT EXISTS</c>, as the migrator itself does next), it is there to read.
    /// </summary>
    private static Task CreateMigrationHistoryAsync(AppDbContext db) =>
        db.GetService<IHistoryRepository>().CreateIfNotExistsAsync();

#if (UsePostgres)
    /// <summary>
    /// A server without the app's database yet gets it, as <c>dotnet ef database update</c> would create it, before
    /// anything connects to it (the migration lock's connection would fail with "3D000: database does not exist").
    /// Npgsql's creator connects to the <c>postgres</c> maintenance database for the <c>CREATE DATABASE</c>.
    /// </summary>
    private static async Task CreateDatabaseIfMissingAsync(AppDbContext db)
    {
        var creator = db.GetService<IRelationalDatabaseCreator>();
        if (await creator.ExistsAsync())
        {
            return;
        }

        try
        {
            await creator.CreateAsync();
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Instances starting at once on a fresh server all find it missing: one creates it, and the others'
            // CREATE DATABASE, run after that one committed, is refused (one run at the same time meets the
            // unique index instead, which the creator itself takes for "created by another").
        }
    }

    /// <summary>Any number below 2^63 the app's other advisory locks (none today) do not use.</summary>
    private const long MigrationLockKey = 0x5773_4175_7468_4D67; // "WsAuthMg"

    /// <summary>
    /// Npgsql's migration lock is a table lock taken in each migration's own transaction and released between
    /// two migrations, so an instance that read the history before another applied the first migration applies
    /// the second one again ("42P07: relation already exists"; seen with InitialCreate then ExampleConsumers).
    /// A session advisory lock held on a connection of its own around the whole of MigrateAsync lets one
    /// instance migrate while the others wait, then find nothing to do.
    /// </summary>
    private static async Task MigrateAsync(AppDbContext db)
    {
        await using var connection = new NpgsqlConnection(db.Database.GetConnectionString());
        await connection.OpenAsync();
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection))
        {
            take.Parameters.AddWithValue("key", MigrationLockKey);
            await take.ExecuteNonQueryAsync();
        }

        // Closing the connection releases the lock too, should the migration throw.
        await db.Database.MigrateAsync();
        await using var release = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
        release.Parameters.AddWithValue("key", MigrationLockKey);
        await release.ExecuteNonQueryAsync();
    }
#else
    /// <summary>SQLite creates the database file when it first opens it.</summary>
    private static Task CreateDatabaseIfMissingAsync(AppDbContext db) => Task.CompletedTask;

    /// <summary>SQLite's migration lock (a lock table) is held across every pending migration.</summary>
    private static Task MigrateAsync(AppDbContext db) => db.Database.MigrateAsync();
#endif

    private static async Task SeedAsync(IServiceProvider services, SeedOptions seed)
    {
        foreach (var user in seed.Users)
        {
            await SeedStepAsync(services, async scope =>
            {
                var result = await scope.GetRequiredService<UserAdministration>().EnsureUserAsync(user.UserName, user.Password, user.Roles);
                return result.Succeeded
                    ? null
                    : $"Could not seed user '{user.UserName}': {string.Join(" ", result.Errors.Select(e => e.Description))}";
            });
        }

        foreach (var organization in seed.Organizations)
        {
            await SeedStepAsync(services, async scope =>
                (await scope.GetRequiredService<OrganizationAdministration>().EnsureOrganizationAsync(organization.Slug, organization.Name)).Error
                    is { } error ? $"Could not seed organization '{organization.Slug}': {error}" : null);

            foreach (var member in organization.Members)
            {
                if (!OrganizationRoleNames.TryParse(member.Role, out var role))
                {
                    throw new InvalidOperationException($"Seed member '{member.UserName}' of '{organization.Slug}' has an unknown role.");
                }

                await SeedStepAsync(services, async scope =>
                    (await scope.GetRequiredService<OrganizationAdministration>().EnsureMembershipAsync(organization.Slug, member.UserName, role)).Error
                        is { } error ? $"Could not seed a member of '{organization.Slug}': {error}" : null);
            }
        }

        Log.Seeded(
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DatabaseInitializer)),
            string.Join(", ", seed.Users.Select(user => user.UserName)),
            string.Join(", ", seed.Organizations.Select(organization => organization.Slug)));
    }

    /// <summary>
    /// Runs one step of the seed (it adds what is missing, and returns why it failed, or null), each attempt in
    /// a fresh context. Instances starting at once seed at once: a step that lost a race to another instance
    /// (a unique index refused its row, or Identity found the name taken) finds the row there when it tries
    /// again. A step that fails for another reason fails again, and the last attempt says why.
    /// </summary>
    private static async Task SeedStepAsync(IServiceProvider services, Func<IServiceProvider, Task<string?>> step)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var scope = services.CreateAsyncScope();
            try
            {
                if (await step(scope.ServiceProvider) is not { } error)
                {
                    return;
                }

                if (attempt == SeedAttempts)
                {
                    throw new InvalidOperationException(error);
                }
            }
            catch (DbUpdateException) when (attempt < SeedAttempts)
            {
                // Lost a race: the next attempt, in a fresh context, finds the other instance's row.
            }
        }
    }

    private static partial class Log
    {
        // The names only: the passwords are in the Seed section of appsettings.Development.json, never in a log.
        [LoggerMessage(1, LogLevel.Information, "Development seed applied (it only adds what is missing): users {UserNames}, organizations {OrganizationSlugs}; their passwords are in the Seed section of appsettings.Development.json")]
        public static partial void Seeded(ILogger logger, string userNames, string organizationSlugs);

        [LoggerMessage(2, LogLevel.Critical, "The database set in 'ConnectionStrings:{Name}' cannot be used, so the app stops: {Reason}")]
        public static partial void DatabaseUnavailable(ILogger logger, string name, string reason);
    }
}

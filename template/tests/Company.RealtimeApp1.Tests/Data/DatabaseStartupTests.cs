using System.Net;
using System.Net.Http.Json;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Users;
using Microsoft.EntityFrameworkCore;
#if (UsePostgres)
using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Npgsql;
#endif

namespace Company.RealtimeApp1.Tests;

/// <summary>Start-up against the database (SPEC §4): several instances at once, and a database that cannot be used.</summary>
public sealed class DatabaseStartupTests
{
    private const string Password = "not-for-any-log-7f3a";

    [Fact]
    public async Task InstancesStartingAtOnceOnOneDatabaseAllStartAndSeedEverythingOnce()
    {
        using var database = TestDatabase.Shared();

        await AssertInstancesStartingAtOnceAllStartAndSeedEverythingOnceAsync(database.ConnectionString);
    }

#if (UsePostgres)
    [Fact]
    public async Task InstancesStartingAtOnceOnADatabaseTheServerDoesNotHaveYetCreateItAndAllStart()
    {
        // A fresh server, as `dotnet ef database update` meets it: the database is the app's to create.
        var connectionString = PostgresServer.Shared.ConnectionString($"tests_{Guid.NewGuid():N}");
        try
        {
            await AssertInstancesStartingAtOnceAllStartAndSeedEverythingOnceAsync(connectionString);
        }
        finally
        {
            PostgresServer.Shared.DropDatabase(connectionString);
        }
    }

    [Fact]
    public async Task AnInstanceThatFindsTheDatabaseMissingStartsWhenAnotherCreatesItFirst()
    {
        var connectionString = PostgresServer.Shared.ConnectionString($"tests_{Guid.NewGuid():N}");
        var otherInstance = new CreatesTheDatabaseFirst();
        try
        {
            using var app = RealtimeApplication.With(
                new() { ["ConnectionStrings:Default"] = connectionString },
                environment: "Development",
                services: s => s.ConfigureDbContext<AppDbContext>(o => o.AddInterceptors(otherInstance)));

            var tokens = await app.SignInAsync("alice", "alice-dev-password");

            Assert.Equal(1, otherInstance.Creations);
            var me = await app.CreateClient(tokens.AccessToken).GetFromJsonAsync<Me>("/me");
            Assert.Equal(("alice", "acme"), (me!.Username, Assert.Single(me.Organizations).Slug));
        }
        finally
        {
            PostgresServer.Shared.DropDatabase(connectionString);
        }
    }

    /// <summary>
    /// Another instance, as it wins the race: just before the app's <c>CREATE DATABASE</c> runs, the same statement
    /// runs on a connection of its own and commits, so the app's meets "42P04: database already exists".
    /// </summary>
    private sealed class CreatesTheDatabaseFirst : DbCommandInterceptor
    {
        private int _creations;

        public int Creations => _creations;

        public override async ValueTask<InterceptionResult<int>> NonQueryExecutingAsync(
            DbCommand command, CommandEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            if (command.CommandText.StartsWith("CREATE DATABASE", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _creations);
                await using var other = new NpgsqlConnection(PostgresServer.Shared.ConnectionString("postgres"));
                await other.OpenAsync(cancellationToken);
                await using var create = new NpgsqlCommand(command.CommandText, other);
                await create.ExecuteNonQueryAsync(cancellationToken);
            }

            return result;
        }
    }

#endif
    [Fact]
    public async Task ADatabaseThatCannotBeUsedStopsTheServerWithOneLineNamingTheSetting()
    {
        var result = await AppProcess.RunAsync(TestDatabase.Unreachable(Password), "", ServerEnvironment);

        AssertStoppedNamingTheSetting(result);
    }

    [Fact]
    public async Task ADatabaseThatCannotBeUsedFailsACommandWithOneLineNamingTheSetting()
    {
        var result = await AppProcess.RunAsync(TestDatabase.Unreachable(Password), "", ServerEnvironment, "users", "list");

        // A command logs one line a record, and nothing of EF Core's.
        Assert.Equal((1, ""), (result.ExitCode, result.Output));
        Assert.StartsWith(
            "crit: Company.RealtimeApp1.Data.DatabaseInitializer[2] The database set in 'ConnectionStrings:Default' cannot be used, so the app stops: ",
            result.Error);
        Assert.DoesNotContain('\n', result.Error);
        Assert.DoesNotContain(Password, result.Error);
    }

    [Fact]
    public async Task AConnectionStringThatIsNotOneStopsTheServerWithOneLineNamingTheSetting()
    {
        var result = await AppProcess.RunAsync($"Passwrd={Password};;=", "", ServerEnvironment);

        AssertStoppedNamingTheSetting(result);
    }

    [Fact]
    public async Task HealthIsUnavailableWhileTheDatabaseIsDown()
    {
#if (UsePostgres)
        await using var server = await PostgresServer.StartAsync();
        using var app = RealtimeApplication.With(new() { ["ConnectionStrings:Default"] = server.CreateDatabase() });
        var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);

        await server.StopAsync();

        using var response = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("""{"status":"Unhealthy"}""", await response.Content.ReadAsStringAsync());
#else
        // A SQLite file that disappears with its directory while the app runs: the next connection cannot open it.
        using var database = TestDatabase.Shared();
        using var app = RealtimeApplication.With(new() { ["ConnectionStrings:Default"] = database.ConnectionString });
        var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);

        Directory.Delete(Path.GetDirectoryName(new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(database.ConnectionString).DataSource)!, recursive: true);

        using var response = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("""{"status":"Unhealthy"}""", await response.Content.ReadAsStringAsync());
#endif
    }

    private static async Task AssertInstancesStartingAtOnceAllStartAndSeedEverythingOnceAsync(string connectionString)
    {
        var settings = new Dictionary<string, string?> { ["ConnectionStrings:Default"] = connectionString };
        var apps = Enumerable.Range(0, 4).Select(_ => RealtimeApplication.With(settings, environment: "Development")).ToList();
        try
        {
            await Task.WhenAll(apps.Select(app => Task.Run(() => app.ServerAddress)));

            foreach (var app in apps)
            {
                var tokens = await app.SignInAsync("alice", "alice-dev-password");
                var me = await app.CreateClient(tokens.AccessToken).GetFromJsonAsync<Me>("/me");
                Assert.Equal(["admin"], me!.Roles);
                Assert.Equal("acme", Assert.Single(me.Organizations).Slug);
            }

            await using var scope = apps[0].Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
            Assert.Equal(db.Database.GetMigrations(), await db.Database.GetAppliedMigrationsAsync());
            Assert.Equal(["alice", "bob", "carol"], await db.Users.Where(u => u.UserName != null).OrderBy(u => u.UserName).Select(u => u.UserName!).ToListAsync());
            Assert.Equal(1, await db.Users.CountAsync(u => u.Id == SignInDecoy.Id));
            Assert.Equal(["acme", "globex"], await db.Organizations.OrderBy(o => o.Slug).Select(o => o.Slug).ToListAsync());
            Assert.Equal(3, await db.Memberships.CountAsync());
            Assert.Equal(["admin"], await db.Roles.Select(r => r.Name!).ToListAsync());
            Assert.Equal(1, await db.UserRoles.CountAsync());
        }
        finally
        {
            foreach (var app in apps)
            {
                await app.DisposeAsync();
            }
        }
    }

    private static readonly Dictionary<string, string> ServerEnvironment = new()
    {
        ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
        ["Jwt__SigningKey"] = new string('k', 64),
    };

    private static void AssertStoppedNamingTheSetting((int ExitCode, string Output, string Error) result)
    {
        var printed = result.Output + "\n" + result.Error;
        Assert.Equal(1, result.ExitCode);
        var lines = printed.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        // The console logger writes a record as its category, then its message. EF Core may log, before it, that
        // the connection failed (its own record, without the exception).
        var reason = Array.IndexOf(lines, "crit: Company.RealtimeApp1.Data.DatabaseInitializer[2]");
        Assert.True(reason >= 0, printed);
        Assert.StartsWith("The database set in 'ConnectionStrings:Default' cannot be used, so the app stops: ", lines[reason + 1]);
        Assert.Single(lines, line => line.StartsWith("crit:", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, line => line.StartsWith("at ", StringComparison.Ordinal) || line.Contains("Exception", StringComparison.Ordinal));
        Assert.DoesNotContain(Password, printed);
    }
}

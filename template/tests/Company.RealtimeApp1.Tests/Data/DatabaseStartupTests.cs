using System.Net;
using System.Net.Http.Json;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Users;
using Microsoft.EntityFrameworkCore;

namespace Company.RealtimeApp1.Tests;

/// <summary>Start-up against the database (SPEC §4): several instances at once, and a database that cannot be used.</summary>
public sealed class DatabaseStartupTests
{
    private const string Password = "not-for-any-log-7f3a";

    [Fact]
    public async Task InstancesStartingAtOnceOnOneDatabaseAllStartAndSeedEverythingOnce()
    {
        using var database = TestDatabase.Shared();
        var settings = new Dictionary<string, string?> { ["ConnectionStrings:Default"] = database.ConnectionString };
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

        AssertStoppedNamingTheSetting(result);
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

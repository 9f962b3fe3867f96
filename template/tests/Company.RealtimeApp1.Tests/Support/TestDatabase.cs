#if (!UsePostgres)
using Microsoft.Data.Sqlite;

#endif
namespace Company.RealtimeApp1.Tests;

/// <summary>
/// A database of a test's own, empty until the app migrates it, gone when disposed. <see cref="Private"/> serves
/// one app in this process; <see cref="Shared"/> also serves other instances and processes (a cluster, the
/// command line).
/// </summary>
public sealed class TestDatabase : IDisposable
{
#if (UsePostgres)
    // Created at first use, inside a test (an app's host is built there): without PostgreSQL, that test skips.
    private readonly Lazy<string> _connectionString = new(() => PostgresServer.Shared.CreateDatabase());

    /// <summary>What <c>ConnectionStrings:Default</c> should be to reach this database.</summary>
    public string ConnectionString => _connectionString.Value;

    /// <summary>A database on the test run's PostgreSQL server.</summary>
    public static TestDatabase Private() => new();

    /// <summary>On PostgreSQL every database can be shared.</summary>
    public static TestDatabase Shared() => Private();

    /// <summary>The connection string of a server that is not there (nothing listens on its port), with <paramref name="password"/>.</summary>
    public static string Unreachable(string password) => PostgresServer.UnreachableConnectionString(password);

    public void Dispose()
    {
        if (_connectionString.IsValueCreated)
        {
            PostgresServer.Shared.DropDatabase(ConnectionString);
        }
    }
#else
    // Shared-cache in-memory SQLite lives as long as one connection to it is open; a file has a directory to remove.
    private readonly SqliteConnection? _keepAlive;
    private readonly string? _directory;

    private TestDatabase(string connectionString, SqliteConnection? keepAlive, string? directory)
    {
        ConnectionString = connectionString;
        _keepAlive = keepAlive;
        _directory = directory;
    }

    /// <summary>What <c>ConnectionStrings:Default</c> should be to reach this database.</summary>
    public string ConnectionString { get; }

    /// <summary>A shared-cache in-memory SQLite database, reachable from this process only.</summary>
    public static TestDatabase Private()
    {
        var connectionString = $"Data Source=tests-{Guid.NewGuid():N};Mode=Memory;Cache=Shared";
        var keepAlive = new SqliteConnection(connectionString);
        keepAlive.Open();
        return new TestDatabase(connectionString, keepAlive, directory: null);
    }

    /// <summary>A SQLite file in a temporary directory, unpooled so that no connection outlives its use.</summary>
    public static TestDatabase Shared()
    {
        var directory = Directory.CreateTempSubdirectory("wsauth-db-").FullName;
        return new TestDatabase($"Data Source={Path.Combine(directory, "app.db")};Pooling=False", keepAlive: null, directory);
    }

    /// <summary>A file SQLite cannot open: its directory does not exist. SQLite has no password.</summary>
    public static string Unreachable(string password) =>
        $"Data Source={Path.Combine(Path.GetTempPath(), $"wsauth-missing-{Guid.NewGuid():N}", "app.db")}";

    public void Dispose()
    {
        _keepAlive?.Dispose();
        if (_directory is not null)
        {
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // SQLite may still hold the file a moment: the directory is temporary anyway.
            }
        }
    }
#endif
}

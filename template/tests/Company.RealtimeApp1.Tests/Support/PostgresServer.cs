#if (UsePostgres)
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// A real PostgreSQL server of the tests' own: <c>initdb</c> into a temporary directory, <c>postgres</c> on a free
/// loopback port with its unix socket in that directory, no durability (the data is thrown away). <see cref="Shared"/>
/// is the one server of a test run, started on first use and stopped at process exit, on which every app gets a
/// database of its own (<see cref="CreateDatabase"/>); a test that takes the server down starts its own
/// (<see cref="StartAsync"/>). As root, which <c>initdb</c> refuses, the binaries run as the <c>postgres</c> user.
/// The binaries are the ones <see cref="TestServices.PostgresBinaries"/> finds; or <see cref="RunningServerVariable"/>
/// names a running server (a connection string of a user who may create databases) that <see cref="Shared"/> uses instead.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    /// <summary>A connection string of a running server for <see cref="Shared"/> (its database is ignored): no server of the tests' own.</summary>
    public const string RunningServerVariable = "WSAUTH_TEST_POSTGRES";

    private const string SystemUser = "postgres";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly Lazy<PostgresServer> SharedServer = new(StartShared);

    private readonly string _binaries = "";
    private readonly string _directory = "";
    private readonly bool _asSystemUser = Environment.UserName == "root";
    private readonly NpgsqlConnectionStringBuilder? _running;

    private PostgresServer(string binaries, int port)
    {
        _binaries = binaries;
        _directory = Directory.CreateTempSubdirectory("postgres-tests-").FullName;
        Port = port;
    }

    private PostgresServer(NpgsqlConnectionStringBuilder running)
    {
        _running = running;
        Port = running.Port;
    }

    /// <summary>The server every app of this test run gets its database on.</summary>
    public static PostgresServer Shared => SharedServer.Value;

    public int Port { get; }

    private string DataDirectory => Path.Combine(_directory, "data");

    /// <summary>The connection string of <paramref name="database"/> on this server (trust authentication: no password).</summary>
    public string ConnectionString(string database) =>
        _running is null
            ? new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Database = database, Username = SystemUser }.ConnectionString
            : new NpgsqlConnectionStringBuilder(_running.ConnectionString) { Database = database }.ConnectionString;

    /// <summary>A connection string to a port nothing listens on.</summary>
    public static string UnreachableConnectionString(string password) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = FreePort(), Database = "app", Username = "app", Password = password }.ConnectionString;

    public static async Task<PostgresServer> StartAsync()
    {
        var server = new PostgresServer(TestServices.PostgresBinaries(), FreePort());
        try
        {
            await server.InitializeAsync();
            await server.RestartAsync();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>A new, empty database, and its connection string.</summary>
    public string CreateDatabase()
    {
        var name = $"tests_{Guid.NewGuid():N}";
        using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        connection.Open();
        using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        command.ExecuteNonQuery();
        return ConnectionString(name);
    }

    /// <summary>Drops a database <see cref="CreateDatabase"/> made, closing what still uses it.</summary>
    public void DropDatabase(string connectionString)
    {
        using (var pooled = new NpgsqlConnection(connectionString))
        {
            NpgsqlConnection.ClearPool(pooled);
        }

        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        connection.Open();
        using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", connection);
        command.ExecuteNonQuery();
    }

    /// <summary>Starts the server (again, after <see cref="StopAsync"/>) and waits until it accepts connections.</summary>
    public async Task RestartAsync()
    {
        EnsureOwn();
        await RunAsync("pg_ctl", "-D", DataDirectory, "-l", Path.Combine(_directory, "server.log"), "-w", "-t", ((int)StartTimeout.TotalSeconds).ToString(),
            "-o", $"-p {Port} -c listen_addresses=127.0.0.1 -k {_directory} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
            "start");
    }

    /// <summary>Stops the server at once, as an outage would.</summary>
    public async Task StopAsync()
    {
        EnsureOwn();
        if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid")))
        {
            await RunAsync("pg_ctl", "-D", DataDirectory, "-m", "immediate", "-w", "stop");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_running is not null)
        {
            return; // not the tests' to stop
        }

        await StopAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by the dying server: the directory is temporary anyway.
        }
    }

    private static PostgresServer StartShared()
    {
        if (Environment.GetEnvironmentVariable(RunningServerVariable) is { Length: > 0 } running)
        {
            return new PostgresServer(new NpgsqlConnectionStringBuilder(running));
        }

        // On the thread pool, off the test framework's synchronization context: a test blocked here, and another
        // blocked on the Lazy beside it, would otherwise hold every thread the awaits below need to continue on (a
        // deadlock the CI saw once as a 10-minute hang of the PostgreSQL option set).
        var server = Task.Run(StartAsync).GetAwaiter().GetResult();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => server.DisposeAsync().AsTask().GetAwaiter().GetResult();
        return server;
    }

    private async Task InitializeAsync()
    {
        if (_asSystemUser)
        {
            await RunProcessAsync("chown", SystemUser, _directory);
        }

        await RunAsync("initdb", "-D", DataDirectory, "-U", SystemUser, "--auth=trust", "--encoding=UTF8", "--no-locale", "--no-sync");
    }

    private Task RunAsync(string binary, params string[] arguments) =>
        _asSystemUser
            ? RunProcessAsync("runuser", ["-u", SystemUser, "--", Path.Combine(_binaries, binary), .. arguments])
            : RunProcessAsync(Path.Combine(_binaries, binary), arguments);

    private static async Task RunProcessAsync(string fileName, params string[] arguments)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // A directory the postgres user may enter.
            WorkingDirectory = Path.GetTempPath(),
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{fileName} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(StartTimeout * 2);
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"{fileName} {string.Join(' ', arguments)} exited with {process.ExitCode}: {await output}{await error}");
        }
    }

    private void EnsureOwn()
    {
        if (_running is not null)
        {
            throw new InvalidOperationException($"The server {RunningServerVariable} names is not the tests' own to stop or start.");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
#endif

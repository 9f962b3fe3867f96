using System.Security.Cryptography;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// Two instances of the app behind no load balancer, as one app: one SQLite file, one signing key, one
/// Redis of their own (<see cref="Redis"/>). <see cref="A"/> is started first, so it alone applies the migrations.
/// </summary>
public sealed class RealtimeCluster : IAsyncDisposable
{
    private readonly string _directory;

    private RealtimeCluster(RedisServer redis, string directory, RealtimeApplication a, RealtimeApplication b)
    {
        Redis = redis;
        _directory = directory;
        Settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:Default"] = DatabaseConnectionString(directory),
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
        };
        A = a;
        B = b;
    }

    public RedisServer Redis { get; }

    /// <summary>What a third process (a command, say) needs to join the cluster: its database and its Redis.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; }

    public RealtimeApplication A { get; }

    public RealtimeApplication B { get; }

    public static async Task<RealtimeCluster> StartAsync(Dictionary<string, string?>? settings = null)
    {
        var redis = await RedisServer.StartAsync();
        var directory = Directory.CreateTempSubdirectory("cluster-tests-").FullName;
        var shared = new Dictionary<string, string?>(settings ?? [])
        {
            ["ConnectionStrings:Default"] = DatabaseConnectionString(directory),
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["Jwt:SigningKey"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)),
        };
        var a = RealtimeApplication.With(shared);
        _ = a.ServerAddress;
        var b = RealtimeApplication.With(shared);
        _ = b.ServerAddress;
        return new RealtimeCluster(redis, directory, a, b);
    }

    private static string DatabaseConnectionString(string directory) => $"Data Source={Path.Combine(directory, "app.db")};Pooling=False";

    public async ValueTask DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
        await Redis.DisposeAsync();
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

using System.Net;
using System.Security.Cryptography;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// Two instances of the app behind no load balancer, as one app: one database, one signing key, one
/// Redis of their own (<see cref="Redis"/>). <see cref="A"/> is started first, so it alone applies the migrations.
/// </summary>
public sealed class RealtimeCluster : IAsyncDisposable
{
    private readonly TestDatabase _database;

    private RealtimeCluster(RedisServer redis, TestDatabase database, Dictionary<string, string?> settings, RealtimeApplication a, RealtimeApplication b)
    {
        Redis = redis;
        Settings = settings;
        _database = database;
        A = a;
        B = b;
    }

    public RedisServer Redis { get; }

    /// <summary>The database both instances share, for a third process (a command, say) to join them.</summary>
    public string DatabaseConnectionString => _database.ConnectionString;

    /// <summary>What both instances were configured with (database, Redis, signing key, and the test's own): a third instance, as a process of its own, joins them with it.</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; }

    public RealtimeApplication A { get; }

    public RealtimeApplication B { get; }

    public static async Task<RealtimeCluster> StartAsync(Dictionary<string, string?>? settings = null)
    {
        var redis = await RedisServer.StartAsync();
        var database = TestDatabase.Shared();
        var shared = new Dictionary<string, string?>(settings ?? [])
        {
            ["ConnectionStrings:Default"] = database.ConnectionString,
            ["ConnectionStrings:Redis"] = redis.ConnectionString,
            ["Jwt:SigningKey"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)),
        };
        var a = RealtimeApplication.With(shared);
        _ = a.ServerAddress;
        var b = RealtimeApplication.With(shared);
        _ = b.ServerAddress;
        return new RealtimeCluster(redis, database, shared, a, b);
    }

    /// <summary>Waits until <c>/health</c> answers <paramref name="status"/> on both instances (503 while Redis is unreachable).</summary>
    public async Task HealthIsAsync(HttpStatusCode status)
    {
        foreach (var app in new[] { A, B })
        {
            using var client = app.CreateClient();
            await Eventually.HoldsAsync(async () =>
            {
                using var health = await client.GetAsync("/health");
                return health.StatusCode == status;
            });
        }
    }

    public async ValueTask DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
        await Redis.DisposeAsync();
        _database.Dispose();
    }
}

using System.Net;
using WsAuth.Bench.Infrastructure;
using WsAuth.Bench.Load;

namespace WsAuth.Bench.Servers;

/// <summary>A running server and what the scenarios need to load it.</summary>
internal sealed class ServerSession : IAsyncDisposable
{
    public required string Name { get; init; }

    public required ServerProcess Server { get; init; }

    public required WireProtocol Protocol { get; init; }

    public required World World { get; init; }

    public required BenchProfile Profile { get; init; }

    /// <summary>The app's own meter (the subject's is named after its project), for the soak's metrics session.</summary>
    public string? MeterName { get; set; }

    /// <summary>Processes whose CPU counts as the server's besides its own: the other instance and Redis, in the cluster scenario.</summary>
    public List<int> Companions { get; } = [];

    /// <summary>The server's process and its companions, for CPU figures.</summary>
    public int[] CpuPids => [Server.Pid, .. Companions];

    /// <summary>For HTTP publishes and setup calls; pooled connections, enough of them for the highest rate.</summary>
    public HttpClient Http => _http ??= new HttpClient(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 128,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        AutomaticDecompression = DecompressionMethods.None,
        UseProxy = false,
    })
    {
        BaseAddress = Server.BaseUri,
        Timeout = TimeSpan.FromSeconds(30),
    };

    private HttpClient? _http;

    /// <summary>Shared by every <c>ClientWebSocket</c>, so a connect costs a connection and nothing more.</summary>
    public HttpMessageInvoker SocketInvoker { get; } = new(new SocketsHttpHandler
    {
        UseProxy = false,
        ConnectTimeout = TimeSpan.FromSeconds(10),
        MaxConnectionsPerServer = int.MaxValue,
    });

    /// <summary>
    /// Waits until the server's CPU use falls below a few percent (what the last measurement set off, such
    /// as closing thousands of sockets, is done), or for at most a few seconds.
    /// </summary>
    public async Task WaitForQuietAsync(CancellationToken cancellationToken)
    {
        var meter = new CpuMeter(CpuPids);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var quiet = 0;
        var busy = 0.0;
        while (quiet < QuietWindows && System.Diagnostics.Stopwatch.GetElapsedTime(started) < QuietTimeout)
        {
            await Task.Delay(QuietWindow, cancellationToken);
            busy = meter.Read();
            quiet = busy < QuietCpu ? quiet + 1 : 0;
        }

        if (quiet < QuietWindows)
        {
            Scenarios.Progress.Write($"  {Name,-8} still busy ({busy:P0} CPU) after {QuietTimeout.TotalSeconds:0} s; measuring anyway");
        }
    }

    /// <summary>CPU time is counted in 10 ms ticks: one tick in a 150 ms window is under 7 %.</summary>
    private const double QuietCpu = 0.10;
    private static readonly TimeSpan QuietWindow = TimeSpan.FromMilliseconds(150);
    private const int QuietWindows = 1;
    private static readonly TimeSpan QuietTimeout = TimeSpan.FromSeconds(5);

    public ValueTask DisposeAsync()
    {
        _http?.Dispose();
        SocketInvoker.Dispose();
        return Server.DisposeAsync();
    }
}

/// <summary>One of the three servers: how to build it, start it, and talk to it.</summary>
internal abstract class ServerUnderTest(BenchPaths paths)
{
    protected BenchPaths Paths { get; } = paths;

    /// <summary><c>subject</c>, <c>signalr</c> or <c>bare</c>.</summary>
    public abstract string Name { get; }

    public abstract string Description { get; }

    public abstract string ProjectFile { get; }

    /// <summary>The environment variables a run sets on this server beyond the port, for the record.</summary>
    public Dictionary<string, string> Settings { get; } = new(StringComparer.Ordinal);

    public virtual Task PrepareAsync(BenchProfile profile, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary><c>dotnet build -c Release</c>, on <paramref name="core"/> alone when given (so as not to slow a server starting on the other).</summary>
    public async Task BuildAsync(int? core, CancellationToken cancellationToken)
    {
        string[] build = ["dotnet", "build", ProjectFile, "-c", "Release", "-nologo", "-v", "quiet"];
        string[] command = core is { } pinned ? ["taskset", "-c", pinned.ToString(System.Globalization.CultureInfo.InvariantCulture), .. build] : build;
        (await Command.RunAsync(command[0], command[1..], Path.GetDirectoryName(ProjectFile)!, TimeSpan.FromMinutes(5), cancellationToken))
            .EnsureSuccess($"Building {Name}");
    }

    public abstract Task<ServerSession> StartAsync(World? world, BenchProfile profile, int? core, CancellationToken cancellationToken);

    /// <summary>
    /// Starts one instance of a cluster (<paramref name="instance"/> names its log) sharing the Redis at
    /// <paramref name="redis"/> (<c>host:port</c>); the world's users and tokens are those of the first start.
    /// </summary>
    public virtual Task<ServerSession> StartClusterMemberAsync(
        World world, BenchProfile profile, int? core, string instance, string redis, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{Name} has no backplane: it is not in the cluster scenario.");

    /// <summary>Whether <see cref="StartClusterMemberAsync"/> is supported.</summary>
    public virtual bool HasBackplane => false;

    /// <summary>Starts the built server in <paramref name="directory"/> and waits until it answers; stops it if it never does.</summary>
    protected async Task<ServerSession> StartSessionAsync(
        string directory, IReadOnlyDictionary<string, string> environment, WireProtocol protocol, World world, BenchProfile profile,
        int? core, TimeSpan readyWithin, CancellationToken cancellationToken, string? instance = null)
    {
        var server = await ServerProcess.StartAsync(instance ?? Name, OutputDll, directory, environment, core, Paths, cancellationToken);
        var session = new ServerSession { Name = instance ?? Name, Server = server, Protocol = protocol, World = world, Profile = profile };
        try
        {
            await server.WaitUntilReadyAsync(readyWithin, cancellationToken);
            return session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    protected string OutputDll => Path.Combine(
        Path.GetDirectoryName(ProjectFile)!, "bin", "Release", "net10.0", Path.GetFileNameWithoutExtension(ProjectFile) + ".dll");
}

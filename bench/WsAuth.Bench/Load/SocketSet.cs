using System.Diagnostics;
using System.Net.WebSockets;

namespace WsAuth.Bench.Load;

/// <summary>
/// Sockets opened together for a scenario: opened with a bounded number of connects in flight, timed until
/// the last one is ready, kept alive (SignalR wants a client ping within 30 s), and closed together.
/// </summary>
internal sealed class SocketSet : IDisposable
{
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan KeepAliveEvery = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(5);
    private const int CloseConcurrency = 128;

    private readonly CancellationTokenSource _stopping = new();

    private SocketSet(IReadOnlyList<BenchSocket> sockets, int failures, string? firstError, TimeSpan elapsed)
    {
        Sockets = sockets;
        Failures = failures;
        FirstError = firstError;
        Elapsed = elapsed;
    }

    /// <summary>The sockets that opened, in the order of their targets.</summary>
    public IReadOnlyList<BenchSocket> Sockets { get; }

    public int Failures { get; }

    public string? FirstError { get; }

    /// <summary>From the first connect to the last socket ready.</summary>
    public TimeSpan Elapsed { get; }

    public static async Task<SocketSet> OpenAsync(
        Servers.ServerSession session, IReadOnlyList<SocketTarget> targets, CancellationToken cancellationToken)
    {
        var opened = new BenchSocket?[targets.Count];
        var failures = 0;
        string? firstError = null;
        var start = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(
            Enumerable.Range(0, targets.Count),
            new ParallelOptions { MaxDegreeOfParallelism = session.Profile.ConnectConcurrency, CancellationToken = cancellationToken },
            async (index, token) =>
            {
                var socket = new BenchSocket(targets[index], session.Protocol);
                try
                {
                    await socket.ConnectAsync(session.Server.BaseUri, session.SocketInvoker, ConnectTimeout, token);
                    opened[index] = socket;
                }
                catch (Exception exception) when (exception is WebSocketException or HttpRequestException or IOException
                    or OperationCanceledException && !token.IsCancellationRequested)
                {
                    socket.Abort();
                    Interlocked.Increment(ref failures);
                    Interlocked.CompareExchange(ref firstError, exception.Message, null);
                }
            });
        var elapsed = Stopwatch.GetElapsedTime(start);

        var set = new SocketSet([.. opened.OfType<BenchSocket>()], failures, firstError, elapsed);
        if (!session.Protocol.KeepAlive.IsEmpty)
        {
            _ = set.KeepAliveAsync(session.Protocol.KeepAlive);
        }

        return set;
    }

    public void SetHandler(RecordHandler? handler)
    {
        foreach (var socket in Sockets)
        {
            socket.Handler = handler;
        }
    }

    public int OpenCount => Sockets.Count(socket => socket.IsOpen);

    /// <summary>Close codes of the sockets the server closed, for the record of what went wrong.</summary>
    public IReadOnlyDictionary<int, int> ServerCloses() => Sockets
        .Where(socket => socket.CloseCode is not null)
        .GroupBy(socket => socket.CloseCode!.Value)
        .ToDictionary(group => group.Key, group => group.Count());

    /// <summary>Closes every socket with the close handshake, a bounded number at a time; what does not close in time is dropped.</summary>
    public async Task CloseAsync()
    {
        _stopping.Cancel();
        var start = Stopwatch.GetTimestamp();
        await Parallel.ForEachAsync(
            Sockets,
            new ParallelOptions { MaxDegreeOfParallelism = CloseConcurrency },
            async (socket, _) => await socket.CloseAsync(CloseTimeout));
        if (Stopwatch.GetElapsedTime(start) > TimeSpan.FromSeconds(2))
        {
            Scenarios.Progress.Write($"  closing {Sockets.Count} sockets took {Stopwatch.GetElapsedTime(start).TotalSeconds:0.0} s");
        }
    }

    /// <summary>Drops whatever is still open (after <see cref="CloseAsync"/>, nothing).</summary>
    public void Dispose()
    {
        _stopping.Cancel();
        foreach (var socket in Sockets)
        {
            socket.Abort();
        }
    }

    private async Task KeepAliveAsync(ReadOnlyMemory<byte> ping)
    {
        try
        {
            while (!_stopping.IsCancellationRequested)
            {
                await Task.Delay(KeepAliveEvery, _stopping.Token);
                foreach (var socket in Sockets)
                {
                    await socket.SendAsync(ping, _stopping.Token);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The set was disposed.
        }
    }
}

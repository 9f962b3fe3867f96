using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using WsAuth.Bench.Infrastructure;

namespace WsAuth.Bench.Servers;

/// <summary>
/// A <c>redis-server</c> for the cluster scenario: on the server's core, a free port of 127.0.0.1, nothing
/// saved (<c>--save '' --appendonly no</c>), its working directory a temporary one; stopped after.
/// </summary>
internal sealed class RedisServer : IAsyncDisposable
{
    private readonly ServerProcess _process;

    private RedisServer(ServerProcess process) => _process = process;

    public int Pid => _process.Pid;

    public string ConnectionString => $"127.0.0.1:{_process.Port}";

    public static string? Executable => File.Exists("/usr/bin/redis-server") ? "/usr/bin/redis-server" : Command.Exists("redis-server") ? "redis-server" : null;

    public static async Task<RedisServer> StartAsync(BenchPaths paths, int? core, CancellationToken cancellationToken)
    {
        var executable = Executable ?? throw new InvalidOperationException("redis-server is not installed: the cluster scenario needs it.");
        var directory = Path.Combine(paths.Temp, "redis");
        Directory.CreateDirectory(directory);
        var process = await ServerProcess.StartCommandAsync(
            "redis",
            port => [executable, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", directory, "--protected-mode", "no"],
            directory, new Dictionary<string, string>(), core, paths, cancellationToken);
        var redis = new RedisServer(process);
        try
        {
            await redis.WaitUntilReadyAsync(TimeSpan.FromSeconds(10), cancellationToken);
            return redis;
        }
        catch
        {
            await redis.DisposeAsync();
            throw;
        }
    }

    /// <summary>Sends PING until <c>+PONG</c> comes back.</summary>
    private async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(started) < timeout)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", _process.Port, cancellationToken);
                var stream = client.GetStream();
                await stream.WriteAsync("PING\r\n"u8.ToArray(), cancellationToken);
                var buffer = new byte[16];
                var read = await stream.ReadAsync(buffer, cancellationToken);
                if (Encoding.ASCII.GetString(buffer, 0, read).StartsWith("+PONG", StringComparison.Ordinal))
                {
                    return;
                }
            }
            catch (SocketException)
            {
                // Not listening yet.
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new TimeoutException("redis-server did not answer PING.");
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}

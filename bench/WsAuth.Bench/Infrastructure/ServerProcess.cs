using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace WsAuth.Bench.Infrastructure;

/// <summary>
/// A server under test: started on 127.0.0.1 and a free port, pinned to a core with <c>taskset</c>, watched
/// by a small shell wrapper that ends it when this process goes away however it ends (even killed), and
/// stopped with its whole process tree. Its output goes to a log file.
/// </summary>
internal sealed class ServerProcess : IAsyncDisposable
{
    private static readonly List<ServerProcess> Running = [];

    private readonly Process _wrapper;
    private readonly StreamWriter _log;
    private readonly TaskCompletionSource<int> _serverPid = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(Process wrapper, StreamWriter log, int port)
    {
        _wrapper = wrapper;
        _log = log;
        Port = port;
    }

    public int Port { get; }

    /// <summary>Starts servers with <c>DOTNET_PerfMapEnabled=1</c> and <c>DOTNET_EnableWriteXorExecute=0</c>, so <c>perf</c> can name JIT-compiled frames (<c>--perf-map</c>).</summary>
    public static bool PerfMap { get; set; }

    public Uri BaseUri => new($"http://127.0.0.1:{Port}/");

    /// <summary>The server's own process (the dotnet host), not the wrapper's.</summary>
    public int Pid { get; private set; }

    public static Task<ServerProcess> StartAsync(
        string name, string dll, string workingDirectory, IReadOnlyDictionary<string, string> environment,
        int? core, BenchPaths paths, CancellationToken cancellationToken) =>
        StartCommandAsync(name, _ => ["dotnet", dll], workingDirectory, environment, core, paths, cancellationToken);

    /// <summary>Starts any command (given the free port it is to listen on) the same way: pinned, watched, logged.</summary>
    public static async Task<ServerProcess> StartCommandAsync(
        string name, Func<int, string[]> command, string workingDirectory, IReadOnlyDictionary<string, string> environment,
        int? core, BenchPaths paths, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(paths.Logs);
        var port = FreePort();
        var wrapper = WriteWrapper(paths);
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(wrapper);
        start.ArgumentList.Add(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (core is { } pinned)
        {
            // Pinned from the start, so the runtime sizes itself for one processor (GC, thread pool, transport).
            start.ArgumentList.Add("taskset");
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(pinned.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        foreach (var argument in command(port))
        {
            start.ArgumentList.Add(argument);
        }

        GeneratorProcess.Clean(start.Environment);
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        if (PerfMap)
        {
            start.Environment["DOTNET_PerfMapEnabled"] = "1";
            // Without this, JIT-compiled code runs from a double mapping perf cannot match to the map.
            start.Environment["DOTNET_EnableWriteXorExecute"] = "0";
        }

        var log = new StreamWriter(Path.Combine(paths.Logs, $"{name}.log"), append: false) { AutoFlush = true };
        var process = new Process { StartInfo = start };
        var server = new ServerProcess(process, log, port);
        process.OutputDataReceived += (_, e) => server.OnOutput(e.Data);
        process.ErrorDataReceived += (_, e) => server.OnOutput(e.Data);
        lock (Running)
        {
            process.Start();
            Running.Add(server);
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        server.Pid = await server._serverPid.Task.WaitAsync(timeout.Token);
        if (PerfMap)
        {
            await File.WriteAllTextAsync(
                Path.Combine(paths.Logs, $"{name}.pid"), server.Pid.ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken);
        }

        return server;
    }

    /// <summary>Polls <c>/health</c> until it answers 200; fails early when the server exits.</summary>
    public async Task WaitUntilReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_wrapper.HasExited)
            {
                throw new InvalidOperationException($"The server exited before it was ready; see {((FileStream)_log.BaseStream).Name}.");
            }

            try
            {
                using var response = await http.GetAsync("health", cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Busy starting (seeding); ask again.
            }

            await Task.Delay(200, cancellationToken);
        }

        throw new TimeoutException($"The server was not ready after {timeout.TotalSeconds:0} s.");
    }

    /// <summary>SIGTERM (the app's own graceful shutdown), then the whole tree is killed if it lingers.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Pid > 0 && !_wrapper.HasExited)
            {
                using var term = Process.Start("kill", ["-TERM", Pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                term?.WaitForExit();
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await _wrapper.WaitForExitAsync(timeout.Token);
                }
                catch (OperationCanceledException)
                {
                    // Kill below.
                }
            }
        }
        finally
        {
            Kill();
        }
    }

    private void Kill()
    {
        try
        {
            if (!_wrapper.HasExited)
            {
                _wrapper.Kill(entireProcessTree: true);
                _wrapper.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        lock (Running)
        {
            Running.Remove(this);
        }

        lock (_log)
        {
            _log.Dispose();
        }

        _wrapper.Dispose();
    }

    /// <summary>Kills every server still running: on Ctrl-C, on an unhandled failure, at exit.</summary>
    public static void KillAll()
    {
        ServerProcess[] running;
        lock (Running)
        {
            running = [.. Running];
        }

        foreach (var server in running)
        {
            server.Kill();
        }
    }

    private void OnOutput(string? line)
    {
        if (line is null)
        {
            return;
        }

        const string PidPrefix = "BENCH_SERVER_PID=";
        if (line.StartsWith(PidPrefix, StringComparison.Ordinal) && int.TryParse(line[PidPrefix.Length..], out var pid))
        {
            _serverPid.TrySetResult(pid);
            return;
        }

        lock (_log)
        {
            if (_log.BaseStream.CanWrite)
            {
                _log.WriteLine(line);
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string WriteWrapper(BenchPaths paths)
    {
        var path = Path.Combine(paths.Temp, "run-server.sh");
        File.WriteAllText(path, """
            #!/usr/bin/env bash
            # Runs a benchmark server and ends it when the benchmark process ($1) is gone, however that ended.
            parent="$1"; shift
            "$@" &
            server=$!
            echo "BENCH_SERVER_PID=$server"
            trap 'kill -TERM "$server" 2>/dev/null; wait "$server"; exit 0' TERM INT HUP
            while kill -0 "$parent" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 0.5; done
            kill -KILL "$server" 2>/dev/null
            wait "$server" 2>/dev/null
            """.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n");
        return path;
    }
}

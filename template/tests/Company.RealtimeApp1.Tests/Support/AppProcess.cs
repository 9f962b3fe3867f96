using System.Diagnostics;

namespace Company.RealtimeApp1.Tests;

/// <summary>The app as a real process (<c>dotnet Company.RealtimeApp1.dll …</c>), in Production, on a database of the test's choosing.</summary>
public static class AppProcess
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    /// <summary>Runs the app with <paramref name="args"/>, <paramref name="input"/> on standard input, until it exits.</summary>
    public static async Task<(int ExitCode, string Output, string Error)> RunAsync(
        string connectionString, string input, IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        var start = StartInfo(args);
        start.RedirectStandardInput = true;
        start.Environment["ConnectionStrings__Default"] = connectionString;
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(Timeout);
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, (await output).Trim(), (await error).Trim());
    }

    /// <summary>
    /// Starts the app as a server on a free loopback port, in Production, with <paramref name="settings"/> (configuration
    /// keys, as <c>ConnectionStrings:Default</c>) as its environment; returns once <c>/health</c> answers 200.
    /// </summary>
    public static async Task<RunningApp> StartServerAsync(IReadOnlyDictionary<string, string?> settings)
    {
        int port;
        using (var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        }

        var start = StartInfo([]);
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        foreach (var (key, value) in settings)
        {
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        var app = new RunningApp(Process.Start(start)!, new Uri($"http://127.0.0.1:{port}"));
        try
        {
            using var client = new HttpClient { BaseAddress = app.Address, Timeout = TimeSpan.FromSeconds(5) };
            var deadline = DateTime.UtcNow + Timeout;
            while (true)
            {
                if (app.Process.HasExited)
                {
                    await app.Process.WaitForExitAsync(); // the output readers are done too
                    Assert.Fail($"The app exited with {app.Process.ExitCode} before it answered: {app.Error}");
                }

                try
                {
                    using var health = await client.GetAsync("/health");
                    if (health.IsSuccessStatusCode)
                    {
                        return app;
                    }
                }
                catch (Exception notYet) when (notYet is HttpRequestException or TaskCanceledException)
                {
                    // not listening yet, or not answering yet
                }

                Assert.True(DateTime.UtcNow < deadline, "The app did not answer /health in time.");
                await Task.Delay(100);
            }
        }
        catch
        {
            await app.DisposeAsync(); // never leave the process running
            throw;
        }
    }

    /// <summary><c>dotnet Company.RealtimeApp1.dll ARGS</c> in Production, its output redirected, with the tests' cheap bcrypt and quiet logs.</summary>
    private static ProcessStartInfo StartInfo(string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Company.RealtimeApp1.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["PasswordHashing__WorkFactor"] = "4";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        return start;
    }
}

/// <summary>The app running as a process of its own: kill it (SIGKILL: no goodbye of any kind) or let the test end it.</summary>
public sealed class RunningApp : IAsyncDisposable
{
    private readonly System.Text.StringBuilder _error = new();

    public RunningApp(Process process, Uri address)
    {
        Process = process;
        Address = address;
        process.ErrorDataReceived += (_, e) =>
        {
            lock (_error)
            {
                _error.AppendLine(e.Data);
            }
        };
        process.OutputDataReceived += (_, e) =>
        {
            lock (_error)
            {
                _error.AppendLine(e.Data); // the console logger writes there (a critical line before exit 1)
            }
        };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
    }

    public Process Process { get; }

    public Uri Address { get; }

    /// <summary>What the process printed, standard error and output.</summary>
    public string Error
    {
        get
        {
            lock (_error)
            {
                return _error.ToString().Trim();
            }
        }
    }

    /// <summary>Opens a WebSocket on the process, authenticated with <paramref name="accessToken"/> in the Authorization header.</summary>
    public async Task<TestSocket> ConnectAsync(string path, string accessToken)
    {
        var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + accessToken);
        using var timeout = new CancellationTokenSource(TestSocket.Timeout);
        await socket.ConnectAsync(new Uri($"ws://{Address.Authority}{path}"), timeout.Token);
        return new TestSocket(socket);
    }

    /// <summary>SIGKILL: the process gets no chance to close a socket, say goodbye to Redis, or run anything at all.</summary>
    public async Task KillAsync()
    {
        Process.Kill(entireProcessTree: true);
        await Process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (!Process.HasExited)
        {
            await KillAsync();
        }

        Process.Dispose();
    }
}

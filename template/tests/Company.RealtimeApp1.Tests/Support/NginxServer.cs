using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// A real nginx of the test's own in front of an app: the README's own server block (its <c>```nginx</c> snippet), on a
/// free loopback port, proxying to the app's port, with everything it writes in a temporary directory. The binary is the
/// one <see cref="TestServices.Nginx"/> finds (a test skips without one).
/// </summary>
public sealed partial class NginxServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(10);

    private readonly string _directory = Directory.CreateTempSubdirectory("nginx-tests-").FullName;
    private Process? _process;

    private NginxServer(int port) => Port = port;

    public int Port { get; }

    /// <summary>The proxy's own origin, as a page served through it has it (the port included).</summary>
    public string Origin => $"http://127.0.0.1:{Port}";

    /// <summary>Starts nginx with the README's server block, listening on a free port and proxying to <paramref name="app"/>.</summary>
    public static async Task<NginxServer> StartAsync(Uri app)
    {
        var binary = TestServices.Nginx();
        var server = new NginxServer(FreePort());
        try
        {
            await server.RunAsync(binary, app);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>The README's nginx configuration, as a user would paste it into <c>http { }</c>.</summary>
    public static string ReadmeSnippet()
    {
        var match = NginxBlock().Match(Solution.ReadReadme());
        Assert.True(match.Success, "The README has no ```nginx block.");
        return match.Groups["config"].Value;
    }

    private async Task RunAsync(string binary, Uri app)
    {
        var snippet = ReadmeSnippet();
        Assert.Contains("listen 8080;", snippet, StringComparison.Ordinal);
        Assert.Contains("http://127.0.0.1:5180", snippet, StringComparison.Ordinal);
        var server = snippet
            .Replace("listen 8080;", $"listen 127.0.0.1:{Port};", StringComparison.Ordinal)
            .Replace("http://127.0.0.1:5180", $"http://127.0.0.1:{app.Port}", StringComparison.Ordinal);
        // Forward slashes: nginx reads "\t" or "\n" in an unquoted Windows path as a tab or a newline.
        var directory = _directory.Replace('\\', '/');
        var temp = directory + "/temp";
        Directory.CreateDirectory(temp);
        var config = directory + "/nginx.conf";
        await File.WriteAllTextAsync(config, $$"""
            daemon off;
            {{(Environment.UserName == "root" ? "user root;" : "")}}
            worker_processes 1;
            pid {{directory}}/nginx.pid;
            error_log {{directory}}/error.log warn;
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path {{temp}}/body;
                proxy_temp_path {{temp}}/proxy;
                fastcgi_temp_path {{temp}}/fastcgi;
                uwsgi_temp_path {{temp}}/uwsgi;
                scgi_temp_path {{temp}}/scgi;
            {{server}}
            }
            """);

        var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-p", directory, "-c", config, "-e", directory + "/error.log" })
        {
            start.ArgumentList.Add(argument);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("nginx did not start.");
        var deadline = DateTime.UtcNow + StartTimeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(50);
            }
            catch (SocketException)
            {
                var log = File.Exists(Path.Combine(_directory, "error.log")) ? await File.ReadAllTextAsync(Path.Combine(_directory, "error.log")) : "";
                throw new InvalidOperationException($"nginx did not listen on {Port}: {log}{await _process.StandardError.ReadToEndAsync()}");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file nginx still holds a moment: the directory is temporary anyway.
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [GeneratedRegex("```nginx\n(?<config>.*?)```", RegexOptions.Singleline)]
    private static partial Regex NginxBlock();
}

using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// The README's quick start, walked as a new user types it: each <c>sh</c> block that talks to the app runs in a fresh
/// <c>bash</c> (nothing carried over from another block) against the app running in Development (a process of its own,
/// migrated and seeded, as <c>dotnet run</c> starts it), with the README's
/// address swapped for the test server's; the WebSocket client block stays open, as in its own terminal, while the
/// next block sends it a message.
/// </summary>
public sealed partial class ReadmeQuickStartTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90); // the first npx fetches wscat from npm

    [Fact]
    public async Task EveryQuickStartBlockWorksPastedIntoAFreshShell()
    {
        TestServices.QuickStartTools();
        var blocks = QuickStartBlocks();
        using var database = TestDatabase.Shared(); // a file (or a server) another process can open
        await using var app = await AppProcess.StartServerAsync(new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ConnectionStrings:Default"] = database.ConnectionString,
        });
        var readmeAddress = AppAddress().Match(string.Join('\n', blocks)).Value;
        // The app listens on 127.0.0.1 only; "localhost" may be ::1 first to a client (Node.js 18 does not fall back).
        var commands = blocks.Select(block => block.Replace(readmeAddress, $"127.0.0.1:{app.Address.Port}", StringComparison.Ordinal)).ToList();

#if (examples)
        Assert.Equal(3, commands.Count);
#else
        Assert.Single(commands);
#endif
        var me = await RunAsync(commands[0]);
        Assert.Matches("^\\{\"id\":\"[0-9a-f-]{36}\",\"username\":\"bob\",", me);
#if (examples)

        // bob's socket, in its own terminal: open until the test ends it.
        using var socket = Start(commands[1]);
        var welcome = await socket.ReadLineAsync(line => line.Contains("\"type\":\"welcome\"", StringComparison.Ordinal));
        Assert.Matches("^\\{\"type\":\"welcome\",\"user\":\\{\"id\":\"[0-9a-f-]{36}\",\"username\":\"bob\"\\}", welcome);

        // alice's notification, from another terminal: answered with its id, and printed by bob's socket at once.
        var accepted = await RunAsync(commands[2]);
        var stored = StoredId().Match(accepted);
        Assert.True(stored.Success, $"The notification block printed \"{accepted}\", not {{\"id\":<its position>}}.");
        var id = stored.Groups["id"].Value;
        var notification = await socket.ReadLineAsync(line => line.Contains("\"type\":\"notification\"", StringComparison.Ordinal));
        Assert.StartsWith($"{{\"type\":\"notification\",\"id\":{id},\"title\":\"Hello\",\"body\":\"from alice\",\"data\":null,\"createdAt\":", notification, StringComparison.Ordinal);
#endif
    }

    /// <summary>The <c>sh</c> blocks of the README's "Quick start" that talk to the app (the first one starts it).</summary>
    private static List<string> QuickStartBlocks()
    {
        var readme = Solution.ReadReadme();
        var start = readme.IndexOf("\n## Quick start\n", StringComparison.Ordinal);
        var end = readme.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
        return ShellBlock().Matches(readme[start..end])
            .Select(block => block.Groups["commands"].Value)
            .Where(block => AppAddress().IsMatch(block) && !block.Contains("dotnet run", StringComparison.Ordinal))
            .ToList();
    }

    private static async Task<string> RunAsync(string commands)
    {
        using var shell = Start(commands);
        using var timeout = new CancellationTokenSource(Timeout);
        var output = shell.Process.StandardOutput.ReadToEndAsync(timeout.Token);
        await shell.Process.WaitForExitAsync(timeout.Token);
        Assert.True(shell.Process.ExitCode == 0, $"The block exited with {shell.Process.ExitCode}: {await shell.Process.StandardError.ReadToEndAsync(timeout.Token)}");
        return (await output).Trim();
    }

    private static Shell Start(string commands)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardInput = true, // a terminal the user has not typed into yet
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(commands);
        foreach (var inherited in new[] { "BOB", "ALICE", "BOB_ID", "TICKET" })
        {
            start.Environment.Remove(inherited);
        }

        return new Shell(Process.Start(start)!);
    }

    private sealed class Shell(Process process) : IDisposable
    {
        public Process Process { get; } = process;

        /// <summary>Reads what the block prints until a line <paramref name="wanted"/> matches, and returns that line.</summary>
        public async Task<string> ReadLineAsync(Func<string, bool> wanted)
        {
            using var timeout = new CancellationTokenSource(Timeout);
            while (await Process.StandardOutput.ReadLineAsync(timeout.Token) is { } line)
            {
                if (wanted(line))
                {
                    return line;
                }
            }

            Assert.Fail($"The block ended without the line awaited: {await Process.StandardError.ReadToEndAsync(timeout.Token)}");
            return "";
        }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit();
            }

            Process.Dispose();
        }
    }

    [GeneratedRegex("```sh\n(?<commands>.*?)```", RegexOptions.Singleline)]
    private static partial Regex ShellBlock();

    [GeneratedRegex(@"localhost:\d+")]
    private static partial Regex AppAddress();

    [GeneratedRegex("^\\{\"id\":(?<id>[0-9]+)\\}$")]
    private static partial Regex StoredId();
}

using System.Diagnostics;
using System.Text;

namespace WsAuth.Template.Tests;

/// <summary>Runs the dotnet CLI as a child process with a time limit, capturing everything it prints.</summary>
internal static class DotNet
{
    public static readonly TimeSpan Timeout = TimeSpan.FromMinutes(10);

    // The test host runs inside `dotnet test`, whose MSBuild and VSTest variables would steer a nested
    // build or test run at the wrong SDK paths or test session; a child starts from a clean slate.
    private static readonly string[] InheritedPrefixesToDrop = ["MSBUILD", "VSTEST", "TESTINGPLATFORM"];

    private static readonly Dictionary<string, string> Environment = new()
    {
        ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        ["DOTNET_NOLOGO"] = "1",
        ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
        ["DOTNET_CLI_UI_LANGUAGE"] = "en",
        // Build servers and reused MSBuild nodes outlive the command and would hold its output pipes open.
        ["MSBUILDDISABLENODEREUSE"] = "1",
        ["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0",
        ["UseSharedCompilation"] = "false",
    };

    public static Task<ProcessResult> RunAsync(string workingDirectory, params string[] arguments) =>
        RunAsync(workingDirectory, new Dictionary<string, string>(), arguments);

    /// <summary>Runs dotnet with <paramref name="variables"/> set (or, with an empty value, removed) on top of its usual environment.</summary>
    public static async Task<ProcessResult> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string> variables, params string[] arguments)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        foreach (var key in startInfo.Environment.Keys.ToList())
        {
            if (InheritedPrefixesToDrop.Any(prefix => key.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
            {
                startInfo.Environment.Remove(key);
            }
        }

        foreach (var (key, value) in Environment.Concat(variables))
        {
            if (value.Length == 0)
            {
                startInfo.Environment.Remove(key);
            }
            else
            {
                startInfo.Environment[key] = value;
            }
        }

        var commandLine = $"dotnet {string.Join(' ', arguments)}";
        var output = new StringBuilder();
        void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (output)
            {
                output.AppendLine(line);
            }
        }

        using var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var timeout = new CancellationTokenSource(Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Append($"[timed out after {Timeout.TotalMinutes} minutes; process tree killed]");
            return new ProcessResult(commandLine, workingDirectory, -1, Snapshot(output), TimedOut: true);
        }

        return new ProcessResult(commandLine, workingDirectory, process.ExitCode, Snapshot(output), TimedOut: false);
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }
}

internal sealed record ProcessResult(string CommandLine, string WorkingDirectory, int ExitCode, string Output, bool TimedOut)
{
    public ProcessResult AssertSucceeded()
    {
        Assert.True(ExitCode == 0, ToString());
        return this;
    }

    public override string ToString() =>
        $"`{CommandLine}` in {WorkingDirectory} exited with {ExitCode}{(TimedOut ? " (timed out)" : "")}:{System.Environment.NewLine}{Output}";
}

using System.Diagnostics;

namespace WsAuth.Bench.Infrastructure;

/// <summary>
/// The generator runs on one core, pinned with <c>taskset</c> once the builds are done. The runtime sizes its
/// thread pool and spinning by the processor count it sees at start, so the benchmark runs in a child
/// process started with <c>DOTNET_PROCESSOR_COUNT=1</c>, as a server started under <c>taskset -c 0</c> sees
/// one processor. Builds and servers started by the child get the machine's environment back.
/// </summary>
internal static class GeneratorProcess
{
    private const string ChildVariable = "WSAUTH_BENCH_GENERATOR";
    private const string ProcessorCountVariable = "DOTNET_PROCESSOR_COUNT";

    public static bool IsChild => Environment.GetEnvironmentVariable(ChildVariable) == "1";

    public static bool ShouldRelaunch => !IsChild && ProcessStats.ReadMachineCores() >= 2 && Command.Exists("taskset");

    public static async Task<int> RelaunchAsync(string[] args)
    {
        var host = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(host) { UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            start.ArgumentList.Add(typeof(GeneratorProcess).Assembly.Location);
        }

        foreach (var argument in args)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment[ChildVariable] = "1";
        start.Environment[ProcessorCountVariable] = "1";

        // Ctrl-C reaches the child too (same process group); it stops its servers and exits, and so do we.
        Console.CancelKeyPress += (_, e) => e.Cancel = true;
        using var child = Process.Start(start) ?? throw new InvalidOperationException("Could not start the generator process.");
        await child.WaitForExitAsync();
        return child.ExitCode;
    }

    /// <summary>Removes what only the generator should see from a child process's environment.</summary>
    public static void Clean(IDictionary<string, string?> environment)
    {
        environment.Remove(ChildVariable);
        environment.Remove(ProcessorCountVariable);
    }
}

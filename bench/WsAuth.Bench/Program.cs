using WsAuth.Bench;
using WsAuth.Bench.Infrastructure;
using WsAuth.Bench.Scenarios;

if (BenchOptions.Parse(args) is not { } options)
{
    Console.Error.WriteLine(BenchOptions.Usage);
    return 2;
}

if (GeneratorProcess.ShouldRelaunch)
{
    return await GeneratorProcess.RelaunchAsync(args);
}

// Whatever ends this process, no server is left behind: Ctrl-C, a failure, or a normal exit.
using var stop = new CancellationTokenSource(options.Profile.Deadline);
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    Progress.Write("stopping (Ctrl-C)");
    stop.Cancel();
};
AppDomain.CurrentDomain.ProcessExit += (_, _) => ServerProcess.KillAll();

try
{
    return await new BenchRunner(options, BenchPaths.Find()).RunAsync(stop.Token);
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Progress.Write("stopped before the end; no results written");
    return 130;
}
catch (Exception exception)
{
    Progress.Write($"failed: {exception}");
    return 1;
}
finally
{
    ServerProcess.KillAll();
}

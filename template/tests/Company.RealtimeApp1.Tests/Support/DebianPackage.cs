using System.Diagnostics;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// The Debian packages the tests need (Redis, PostgreSQL, Chromium), installed with apt-get the first time one is
/// missing, so the suite passes on a fresh machine: only when the tests run as root on Linux (as CI does), one
/// process at a time (a file lock keeps parallel test processes from running apt-get and dpkg at once).
/// </summary>
public static class DebianPackage
{
    private static readonly string LockPath = Path.Combine(Path.GetTempPath(), "wsauth-apt-install.lock");
    // Longer than the holder can take: apt-get update, then install, each up to CommandTimeout.
    private static readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(25);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(10);
    private static readonly SemaphoreSlim InThisProcess = new(1, 1);

    /// <summary>
    /// Returns what <paramref name="find"/> finds (a program's path), installing <paramref name="package"/> first when
    /// it finds nothing and this process may; else says how to install it.
    /// </summary>
    public static async Task<string> EnsureInstalledAsync(string package, Func<string?> find)
    {
        if (find() is { } found)
        {
            return found;
        }

        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException(
                $"These tests need Debian's {package}, and this process cannot install it (it is not root on Linux). " +
                $"Install it first: sudo apt-get update && sudo apt-get install -y --no-install-recommends {package}");
        }

        await InThisProcess.WaitAsync();
        try
        {
            using var installLock = await AcquireLockAsync();
            if (find() is null)
            {
                await RunAsync(package, "apt-get", "update");
                await RunAsync(package, "apt-get", "install", "-y", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=600", package);
            }
        }
        finally
        {
            InThisProcess.Release();
        }

        return find() ?? throw new InvalidOperationException($"apt-get installed {package}, but what the tests need from it is still missing.");
    }

    /// <summary>The first of <paramref name="candidates"/> that exists, else <paramref name="program"/> on the PATH.</summary>
    public static string? FindProgram(string program, params string[] candidates) =>
        candidates.FirstOrDefault(File.Exists)
        ?? (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Combine(directory, program))
            .FirstOrDefault(File.Exists);

    private static async Task<FileStream> AcquireLockAsync()
    {
        var deadline = DateTime.UtcNow + LockTimeout;
        while (true)
        {
            try
            {
                // FileShare.None takes an exclusive advisory lock (flock) that other processes' attempts respect.
                return new FileStream(LockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }

    private static async Task RunAsync(string package, string command, params string[] args)
    {
        var start = new ProcessStartInfo(command)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(start)
            ?? throw new InvalidOperationException($"Could not start {command} to install {package}.");
        using var timeout = new CancellationTokenSource(CommandTimeout);
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"'{command} {string.Join(' ', args)}' did not finish within {CommandTimeout.TotalMinutes} minutes while installing {package}.");
        }

        await output;
        var errorText = (await error).Trim();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{command} {string.Join(' ', args)}' failed with exit code {process.ExitCode} while installing {package}: {Last(errorText, 2000)}");
        }
    }

    private static string Last(string text, int length) => text.Length <= length ? text : text[^length..];
}

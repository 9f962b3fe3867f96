using System.Diagnostics;

namespace Company.RealtimeApp1.Tests.Browser;

/// <summary>
/// Debian's Chromium, which the browser tests drive through Playwright (Playwright's own browser download
/// is not used). Installed with apt-get when missing and the tests run as root, one process at a time.
/// </summary>
public static class Chromium
{
    public const string ExecutablePath = "/usr/bin/chromium";

    private static readonly string LockPath = Path.Combine(Path.GetTempPath(), "wsauth-chromium-install.lock");
    private static readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromMinutes(10);
    private static readonly SemaphoreSlim InThisProcess = new(1, 1);

    /// <summary>Returns the path of Chromium, installing it first when it is missing and this process may.</summary>
    public static async Task<string> EnsureInstalledAsync()
    {
        if (File.Exists(ExecutablePath))
        {
            return ExecutablePath;
        }

        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess)
        {
            throw new InvalidOperationException(
                $"The browser tests need Chromium at {ExecutablePath}, and this process cannot install it (it is not root on Linux). " +
                "Install it first: sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium");
        }

        await InThisProcess.WaitAsync();
        try
        {
            // The file lock keeps parallel test processes from running apt-get (and dpkg) at once.
            using var installLock = await AcquireLockAsync();
            if (!File.Exists(ExecutablePath))
            {
                await RunAsync("apt-get", "update");
                await RunAsync("apt-get", "install", "-y", "--no-install-recommends", "-o", "DPkg::Lock::Timeout=600", "chromium");
            }
        }
        finally
        {
            InThisProcess.Release();
        }

        return File.Exists(ExecutablePath)
            ? ExecutablePath
            : throw new InvalidOperationException($"apt-get installed chromium, but {ExecutablePath} is still missing.");
    }

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

    private static async Task RunAsync(string command, params string[] args)
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
            ?? throw new InvalidOperationException($"Could not start {command} to install Chromium.");
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
            throw new InvalidOperationException($"'{command} {string.Join(' ', args)}' did not finish within {CommandTimeout.TotalMinutes} minutes while installing Chromium.");
        }

        await output;
        var errorText = (await error).Trim();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{command} {string.Join(' ', args)}' failed with exit code {process.ExitCode} while installing Chromium: {Last(errorText, 2000)}");
        }
    }

    private static string Last(string text, int length) => text.Length <= length ? text : text[^length..];
}

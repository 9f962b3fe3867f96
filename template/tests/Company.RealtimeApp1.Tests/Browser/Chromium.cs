namespace Company.RealtimeApp1.Tests.Browser;

/// <summary>
/// Debian's Chromium, which the browser tests drive through Playwright (Playwright's own browser download
/// is not used), installed when missing (<see cref="DebianPackage"/>).
/// </summary>
public static class Chromium
{
    public const string ExecutablePath = "/usr/bin/chromium";

    /// <summary>Returns the path of Chromium, installing it first when it is missing and this process may.</summary>
    public static Task<string> EnsureInstalledAsync() =>
        DebianPackage.EnsureInstalledAsync("chromium", () => File.Exists(ExecutablePath) ? ExecutablePath : null);
}

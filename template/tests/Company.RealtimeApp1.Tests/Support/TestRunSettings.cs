using System.Runtime.CompilerServices;

namespace Company.RealtimeApp1.Tests;

internal static class TestRunSettings
{
    /// <summary>
    /// No app of the test run, in this process or a child (which inherits the variable), watches its appsettings
    /// files: each watcher holds an inotify instance on Linux, a few hundred apps in one run would exhaust the
    /// per-user limit (128 on Debian), and no test changes those files while an app runs.
    /// </summary>
    [ModuleInitializer]
    internal static void Initialize() => Environment.SetEnvironmentVariable("DOTNET_hostBuilder__reloadConfigOnChange", "false");
}

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// Where the tests find the real programs they start (SPEC §1): a variable naming it, else the program on <c>PATH</c>,
/// else its platform's usual places (Linux, macOS, Windows). Tests never install anything. One that cannot be found
/// skips its test with a message naming what to install or set, except under <c>CI=true</c>, where it fails.
/// </summary>
public static class TestServices
{
    public const string RedisVariable = "WSAUTH_TEST_REDIS_SERVER";
    public const string PostgresVariable = "WSAUTH_TEST_POSTGRES_BIN";
    public const string BrowserVariable = "WSAUTH_TEST_BROWSER";
    public const string NginxVariable = "WSAUTH_TEST_NGINX";

    /// <summary>The path of <c>redis-server</c>, or the test is skipped (failed under CI).</summary>
    public static string RedisServer() => Require(FindRedisServer(Machine.Current));

    /// <summary>The directory holding PostgreSQL's <c>initdb</c> and <c>pg_ctl</c>, or the test is skipped (failed under CI).</summary>
    public static string PostgresBinaries() => Require(FindPostgresBinaries(Machine.Current));

    /// <summary>The path of Chromium, Chrome or Edge, or the test is skipped (failed under CI).</summary>
    public static string Browser() => Require(FindBrowser(Machine.Current));

    /// <summary>The path of <c>nginx</c>, or the test is skipped (failed under CI).</summary>
    public static string Nginx() => Require(FindNginx(Machine.Current));

    /// <summary>
    /// What the README's quick start uses, on <c>PATH</c>: <c>bash</c>, <c>curl</c> and <c>jq</c>, and for its socket
    /// Node.js's <c>npx</c> with <c>wscat</c> installed (<c>npx --yes wscat</c> then runs it, and the test downloads
    /// nothing); or the test is skipped (failed under CI).
    /// </summary>
    public static void QuickStartTools() => Require(FindQuickStartTools(Machine.Current));

    public static Search FindQuickStartTools(Machine machine)
    {
#if (examples)
        string[] programs = ["bash", "curl", "jq", "npx", "wscat"];
#else
        string[] programs = ["bash", "curl", "jq"];
#endif
        var missing = programs.Where(program => !machine.OnPath(program).Any(machine.FileExists)).ToList();
        return missing.Count == 0
            ? new Search(string.Join(Path.PathSeparator, programs), null)
            : new Search(null, $"The README's quick start needs {string.Join(", ", missing)} on PATH, and {(missing.Count == 1 ? "it was" : "they were")} not found: install {(missing.Count == 1 ? "it" : "them")} (Debian/Ubuntu: apt-get install curl jq nodejs npm; macOS: brew install jq node; Windows: Git Bash, jq and Node.js; wscat: npm install -g wscat).");
    }

    public static Search FindNginx(Machine machine) => Find(
        machine,
        NginxVariable,
        "nginx",
        "nginx (Debian/Ubuntu: apt-get install nginx; macOS: brew install nginx; Windows: nginx.org's zip)",
        machine.OnPath("nginx")
            .Concat(machine.Platform switch
            {
                Platform.Windows => [Path.Join(machine.Variable("SystemDrive"), "nginx", "nginx.exe")],
                Platform.MacOS => ["/opt/homebrew/bin/nginx", "/usr/local/bin/nginx"],
                _ => ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"],
            }));

    public static Search FindRedisServer(Machine machine) => Find(
        machine,
        RedisVariable,
        "redis-server",
        "Redis's redis-server (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis; Windows: Memurai, or the tests in WSL)",
        machine.OnPath("redis-server")
            .Concat(machine.Platform switch
            {
                Platform.Windows => [Path.Join(machine.Variable("ProgramFiles"), "Memurai", "memurai.exe"), Path.Join(machine.Variable("ProgramFiles"), "Redis", "redis-server.exe")],
                Platform.MacOS => ["/opt/homebrew/bin/redis-server", "/usr/local/bin/redis-server"],
                _ => ["/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server"],
            }));

    public static Search FindPostgresBinaries(Machine machine)
    {
        var initdb = machine.Platform == Platform.Windows ? "initdb.exe" : "initdb";
        var onPath = machine.OnPath("initdb").Select(Path.GetDirectoryName).OfType<string>();
        IEnumerable<string> usual = machine.Platform switch
        {
            Platform.Windows => machine.NewestFirst(Path.Join(machine.Variable("ProgramFiles"), "PostgreSQL")).Select(version => Path.Join(version, "bin")),
            Platform.MacOS => [
                .. machine.NewestFirst("/opt/homebrew/opt", "postgresql@").Select(version => Path.Join(version, "bin")),
                "/opt/homebrew/bin",
                .. machine.NewestFirst("/usr/local/opt", "postgresql@").Select(version => Path.Join(version, "bin")),
                "/usr/local/bin",
                "/Applications/Postgres.app/Contents/Versions/latest/bin",
            ],
            _ => [
                .. machine.NewestFirst("/usr/lib/postgresql").Select(version => Path.Join(version, "bin")),
                .. machine.NewestFirst("/usr", "pgsql-").Select(version => Path.Join(version, "bin")),
                "/usr/bin",
            ],
        };
        var found = Find(
            machine,
            PostgresVariable,
            "initdb",
            "PostgreSQL's server binaries, initdb and pg_ctl (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql; Windows: the EDB installer)",
            onPath.Concat(usual).Select(directory => Path.Join(directory, initdb)),
            settingIsADirectory: true);
        return found with { Path = found.Path is null ? null : Path.GetDirectoryName(found.Path) };
    }

    public static Search FindBrowser(Machine machine) => Find(
        machine,
        BrowserVariable,
        "Chromium, Chrome or Edge",
        "a Chromium-based browser (Debian: apt-get install chromium; macOS or Windows: Google Chrome or Microsoft Edge)",
        new[] { "chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "microsoft-edge", "microsoft-edge-stable", "chrome", "msedge" }
            .SelectMany(machine.OnPath)
            .Concat(machine.Platform switch
            {
                Platform.Windows => [
                    Path.Join(machine.Variable("ProgramFiles"), "Google", "Chrome", "Application", "chrome.exe"),
                    Path.Join(machine.Variable("ProgramFiles(x86)"), "Google", "Chrome", "Application", "chrome.exe"),
                    Path.Join(machine.Variable("LocalAppData"), "Google", "Chrome", "Application", "chrome.exe"),
                    Path.Join(machine.Variable("ProgramFiles(x86)"), "Microsoft", "Edge", "Application", "msedge.exe"),
                    Path.Join(machine.Variable("ProgramFiles"), "Microsoft", "Edge", "Application", "msedge.exe"),
                ],
                Platform.MacOS => [
                    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
                    "/Applications/Chromium.app/Contents/MacOS/Chromium",
                    "/Applications/Microsoft Edge.app/Contents/MacOS/Microsoft Edge",
                ],
                _ => ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome", "/snap/bin/chromium", "/usr/bin/microsoft-edge"],
            }));

    /// <summary>What a test does when <paramref name="search"/> found nothing: skip it, or under <c>CI=true</c> fail it.</summary>
    public static (bool Fails, string Message) Missing(Search search, Machine machine) =>
        string.Equals(machine.Variable("CI"), "true", StringComparison.OrdinalIgnoreCase)
            ? (true, $"{search.Missing} (CI=true: a service the tests need must be there; .ci/run installs Debian's packages)")
            : (false, search.Missing!);

    private static string Require(Search search)
    {
        if (search.Path is { } path)
        {
            return path;
        }

        var (fails, message) = Missing(search, Machine.Current);
        if (fails)
        {
            Assert.Fail(message);
        }

        Assert.Skip(message);
        return ""; // not reached: Assert.Skip throws
    }

    private static Search Find(
        Machine machine, string variable, string program, string what, IEnumerable<string> candidates, bool settingIsADirectory = false)
    {
        if (machine.Variable(variable) is { Length: > 0 } setting)
        {
            var named = settingIsADirectory ? Path.Join(setting, machine.Platform == Platform.Windows ? program + ".exe" : program) : setting;
            return machine.FileExists(named)
                ? new Search(named, null)
                : new Search(null, $"{variable} names {setting}, where there is no {program}: set it to {(settingIsADirectory ? "the directory of" : "the path of")} {program}, or unset it.");
        }

        return candidates.FirstOrDefault(machine.FileExists) is { } found
            ? new Search(found, null)
            : new Search(null, $"These tests need {what}, and none was found on PATH or in its usual places: install it, or set {variable} to {(settingIsADirectory ? "the directory of its binaries" : "its path")}.");
    }
}

/// <summary>What a search found (<see cref="Path"/>), or why it found nothing (<see cref="Missing"/>).</summary>
public sealed record Search(string? Path, string? Missing);

public enum Platform
{
    Linux,
    MacOS,
    Windows,
}

/// <summary>What a search looks at: environment variables, files, directories. <see cref="Current"/> is this machine; tests build others.</summary>
public sealed record Machine(Platform Platform, Func<string, string?> Variable, Func<string, bool> FileExists, Func<string, IEnumerable<string>> Directories)
{
    public static Machine Current { get; } = new(
        OperatingSystem.IsWindows() ? Platform.Windows : OperatingSystem.IsMacOS() ? Platform.MacOS : Platform.Linux,
        Environment.GetEnvironmentVariable,
        File.Exists,
        directory => Directory.Exists(directory) ? Directory.EnumerateDirectories(directory) : []);

    /// <summary><paramref name="program"/> in each directory of <c>PATH</c>, in order (with <c>.exe</c> on Windows).</summary>
    public IEnumerable<string> OnPath(string program) =>
        (Variable("PATH") ?? "").Split(Platform == Platform.Windows ? ';' : ':', StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => Path.Join(directory, Platform == Platform.Windows ? program + ".exe" : program));

    /// <summary>The subdirectories of <paramref name="parent"/> named <paramref name="prefix"/> and a version, the newest version first.</summary>
    public IEnumerable<string> NewestFirst(string parent, string prefix = "") =>
        Directories(parent)
            .Select(directory => (directory, name: Path.GetFileName(directory)))
            .Where(entry => entry.name.StartsWith(prefix, StringComparison.Ordinal) && Version.TryParse(Normalize(entry.name[prefix.Length..]), out _))
            .OrderByDescending(entry => Version.Parse(Normalize(entry.name[prefix.Length..])))
            .Select(entry => entry.directory);

    private static string Normalize(string version) => version.Contains('.') ? version : version + ".0";
}

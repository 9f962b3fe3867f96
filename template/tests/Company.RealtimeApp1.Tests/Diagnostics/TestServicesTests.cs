namespace Company.RealtimeApp1.Tests;

/// <summary>
/// How the tests find the programs they start (SPEC §1), on made-up machines: a variable first, then <c>PATH</c>, then
/// the platform's usual places; nothing found is a skip with what to install or set, or under <c>CI=true</c> a failure.
/// </summary>
public sealed class TestServicesTests
{
    [Fact]
    public void AVariableNamingTheProgramWinsOverPath()
    {
        var machine = Linux(files: ["/opt/redis/redis-server", "/usr/bin/redis-server"], variables: new()
        {
            [TestServices.RedisVariable] = "/opt/redis/redis-server",
            ["PATH"] = "/usr/bin",
        });

        Assert.Equal(new Search("/opt/redis/redis-server", null), TestServices.FindRedisServer(machine));
    }

    [Fact]
    public void AVariableNamingNothingIsReportedNotPassedOver()
    {
        var machine = Linux(files: ["/usr/bin/redis-server"], variables: new() { [TestServices.RedisVariable] = "/nowhere/redis-server" });

        Assert.Equal(
            new Search(null, "WSAUTH_TEST_REDIS_SERVER names /nowhere/redis-server, where there is no redis-server: set it to the path of redis-server, or unset it."),
            TestServices.FindRedisServer(machine));
    }

    [Fact]
    public void PathComesBeforeTheUsualPlaces()
    {
        var machine = Linux(files: ["/home/me/bin/redis-server", "/usr/bin/redis-server"], variables: new() { ["PATH"] = "/nope:/home/me/bin" });

        Assert.Equal("/home/me/bin/redis-server", TestServices.FindRedisServer(machine).Path);
    }

    [Fact]
    public void PostgresIsTheNewestDebianVersionsBinaries()
    {
        var machine = Linux(
            files: ["/usr/lib/postgresql/15/bin/initdb", "/usr/lib/postgresql/17/bin/initdb", "/usr/lib/postgresql/9.6/bin/initdb"],
            directories: new() { ["/usr/lib/postgresql"] = ["/usr/lib/postgresql/15", "/usr/lib/postgresql/9.6", "/usr/lib/postgresql/17"] });

        Assert.Equal("/usr/lib/postgresql/17/bin", TestServices.FindPostgresBinaries(machine).Path);
    }

    [Fact]
    public void PostgresOnMacOsIsHomebrewsNewest()
    {
        var machine = new Machine(
            Platform.MacOS,
            _ => null,
            new HashSet<string>(["/opt/homebrew/opt/postgresql@16/bin/initdb", "/opt/homebrew/opt/postgresql@17/bin/initdb"]).Contains,
            directory => directory == "/opt/homebrew/opt" ? ["/opt/homebrew/opt/postgresql@16", "/opt/homebrew/opt/redis", "/opt/homebrew/opt/postgresql@17"] : []);

        Assert.Equal("/opt/homebrew/opt/postgresql@17/bin", TestServices.FindPostgresBinaries(machine).Path);
    }

    [Fact]
    public void TheBrowserIsChromeOnMacOsAndEdgeOnWindowsWhenThatIsWhatThereIs()
    {
        var mac = new Machine(Platform.MacOS, _ => null, path => path == "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome", _ => []);
        var windows = new Machine(
            Platform.Windows,
            name => name switch { "ProgramFiles(x86)" => "C:/Program Files (x86)", "PATH" => "C:/Windows", _ => null },
            path => path == "C:/Program Files (x86)/Microsoft/Edge/Application/msedge.exe",
            _ => []);

        Assert.Equal("/Applications/Google Chrome.app/Contents/MacOS/Google Chrome", TestServices.FindBrowser(mac).Path);
        Assert.Equal("C:/Program Files (x86)/Microsoft/Edge/Application/msedge.exe", TestServices.FindBrowser(windows).Path);
    }

    [Fact]
    public void OnWindowsPathEntriesAreSplitBySemicolonsAndProgramsEndInExe()
    {
        var machine = new Machine(Platform.Windows, name => name == "PATH" ? "C:/a;C:/Chrome" : null, path => path == "C:/Chrome/chrome.exe", _ => []);

        Assert.Equal("C:/Chrome/chrome.exe", TestServices.FindBrowser(machine).Path);
    }

    [Fact]
    public void NothingFoundSkipsWithWhatToInstallOrSetAndFailsUnderCi()
    {
        var nothing = Linux(files: [], variables: new() { ["PATH"] = "/usr/bin" });
        var search = TestServices.FindBrowser(nothing);
        const string Message = "These tests need a Chromium-based browser (Debian: apt-get install chromium; macOS or Windows: Google Chrome or Microsoft Edge), " +
            "and none was found on PATH or in its usual places: install it, or set WSAUTH_TEST_BROWSER to its path.";

        Assert.Equal(new Search(null, Message), search);
        Assert.Equal((false, Message), TestServices.Missing(search, nothing));
        Assert.Equal(
            (true, Message + " (CI=true: a service the tests need must be there; .ci/run installs Debian's packages)"),
            TestServices.Missing(search, nothing with { Variable = name => name == "CI" ? "true" : null }));
    }

    private static Machine Linux(string[] files, Dictionary<string, string>? variables = null, Dictionary<string, string[]>? directories = null) =>
        new(
            Platform.Linux,
            name => variables?.GetValueOrDefault(name),
            new HashSet<string>(files).Contains,
            directory => directories?.GetValueOrDefault(directory) ?? []);
}

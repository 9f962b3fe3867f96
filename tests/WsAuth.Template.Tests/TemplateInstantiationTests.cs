using System.Text.Json;
using System.Text.RegularExpressions;

namespace WsAuth.Template.Tests;

[Collection(TemplateCollection.Name)]
public sealed class TemplateInstantiationTests(TemplateHive hive)
{
    private const string Name = "Acme.Realtime";
    private const string App = $"src/{Name}";
    private const string AppProject = $"{App}/{Name}.csproj";
    private const string LibraryProject = $"src/{Name}.WebSockets/{Name}.WebSockets.csproj";
    private const string ClientProject = $"src/{Name}.Client/{Name}.Client.csproj";
    private const string TestProject = $"tests/{Name}.Tests/{Name}.Tests.csproj";
    private const string PackageVersions = "Directory.Packages.props";

    [Fact]
    public async Task DefaultOptionsProduceAnAppThatBuildsAndPassesItsTests()
    {
        using var output = new TempDirectory("default");
        (await hive.InstantiateAsync(Name, output.Path)).AssertSucceeded();

        AssertGeneratedFiles(output.Path, includeTests: true);
        var solution = ReadText(output.Path, $"{Name}.slnx");
        foreach (var project in new[] { AppProject, LibraryProject, ClientProject, TestProject })
        {
            Assert.True(File.Exists(Path.Combine(output.Path, project)), $"{project} is missing.");
            Assert.Contains($"\"{project}\"", solution, StringComparison.Ordinal);
        }

        Assert.Matches(@"""AccessTokenMinutes"": 15\b", ReadText(output.Path, $"{App}/appsettings.json"));
        Assert.Contains("<PackageReference Include=\"StackExchange.Redis\" />", ReadText(output.Path, LibraryProject), StringComparison.Ordinal);
        Assert.Contains("<PackageVersion Include=\"StackExchange.Redis\" Version=\"2.13.23\" />", ReadText(output.Path, PackageVersions), StringComparison.Ordinal);
        AssertNoInPlaceSymbols(output.Path);
        AssertEveryPackageVersionIsExact(output.Path);

        await AssertBuildsWithoutWarningsAsync(output.Path);
        await AssertDotnetWatchLeavesTheDatabaseFilesAloneAsync(output.Path);
        await AssertPublishesTheAppAndNothingOfTheTestsAsync(output.Path);
        // template/ is this option set, and the README's test command runs all of its tests in place; the generated
        // copy runs the tests that read what instantiation writes: the namespaces, the README, the .http file, the
        // port, the signing key, the commands and the seed.
        await AssertGeneratedTestsPassAsync(output.Path, NameDependentTests);
        await AssertTestsWithoutTheirServicesSkipOrUnderCiFailAsync(output.Path);
    }

    /// <summary>
    /// The generated tests never install what they need (SPEC §1): with Redis and the browser named where there is
    /// none, the tests that need them are skipped with a message naming the variable and what to set, and under
    /// <c>CI=true</c> they fail instead.
    /// </summary>
    private static async Task AssertTestsWithoutTheirServicesSkipOrUnderCiFailAsync(string outputDirectory)
    {
        const string Filter = "FullyQualifiedName~RedisPresenceTests|FullyQualifiedName~BrowserPresenceTests";
        var missing = new Dictionary<string, string>
        {
            ["WSAUTH_TEST_REDIS_SERVER"] = "/nonexistent/redis-server",
            ["WSAUTH_TEST_BROWSER"] = "/nonexistent/chromium",
            ["CI"] = "",
        };

        // The console shows a skip's reason at the detailed verbosity (IDEs show it always).
        var skipped = await DotNet.RunAsync(outputDirectory, missing, "test", $"{Name}.slnx", "--no-build", "--filter", Filter, "--logger", "console;verbosity=detailed");
        skipped.AssertSucceeded();
        Assert.Matches(@"Total tests: 6\s+Skipped: 6\s", skipped.Output);
        Assert.Contains("WSAUTH_TEST_REDIS_SERVER names /nonexistent/redis-server, where there is no redis-server", skipped.Output, StringComparison.Ordinal);
        Assert.Contains("WSAUTH_TEST_BROWSER names /nonexistent/chromium, where there is no Chromium, Chrome or Edge", skipped.Output, StringComparison.Ordinal);

        var failed = await DotNet.RunAsync(outputDirectory, new Dictionary<string, string>(missing) { ["CI"] = "true" }, "test", $"{Name}.slnx", "--no-build", "--filter", Filter);
        Assert.NotEqual(0, failed.ExitCode);
        Assert.Matches(@"Failed:\s+6, Passed:\s+0, Skipped:\s+0, Total:\s+6", failed.Output);
        Assert.Contains("(CI=true: a service the tests need must be there", failed.Output, StringComparison.Ordinal);
    }

    /// <summary>
    /// SQLite writes <c>app.db</c> and its journals in the app's folder, where <c>dotnet watch</c> would reload the app on
    /// every write (seen: "File updated: ./app.db-wal", then again and again). .NET 10's watch leaves alone what the
    /// project's items exclude, so the database files must be no item of the project, while its other files still are.
    /// </summary>
    private static async Task AssertDotnetWatchLeavesTheDatabaseFilesAloneAsync(string outputDirectory)
    {
        string[] databaseFiles = ["app.db", "app.db-shm", "app.db-wal", "app.db-journal"];
        foreach (var file in databaseFiles.Append("notes.txt"))
        {
            File.WriteAllText(Path.Combine(outputDirectory, App, file), "");
        }

        var evaluation = await DotNet.RunAsync(outputDirectory, "msbuild", AppProject, "-getItem:None", "-getItem:Content");
        evaluation.AssertSucceeded();
        using var items = JsonDocument.Parse(evaluation.Output[evaluation.Output.IndexOf('{', StringComparison.Ordinal)..]);
        var identities = items.RootElement.GetProperty("Items").EnumerateObject()
            .SelectMany(type => type.Value.EnumerateArray().Select(item => item.GetProperty("Identity").GetString()))
            .ToList();
        Assert.Contains("notes.txt", identities);
        Assert.Contains("appsettings.json", identities);
        Assert.Empty(identities.Intersect(databaseFiles));
        foreach (var file in databaseFiles.Append("notes.txt"))
        {
            File.Delete(Path.Combine(outputDirectory, App, file));
        }
    }

    /// <summary>
    /// <c>dotnet publish src/&lt;Name&gt; -c Release -o out</c> writes the app and its library, with their
    /// packages, and nothing of the tests: no test assembly, runner, test framework or test-only package. Nor the
    /// .NET client (<c>&lt;Name&gt;.Client</c>), which ships in the apps that use it, not in the server.
    /// </summary>
    private static async Task AssertPublishesTheAppAndNothingOfTheTestsAsync(string outputDirectory)
    {
        var publish = Path.Combine(outputDirectory, "out");
        (await DotNet.RunAsync(outputDirectory, "publish", App, "-c", "Release", "-o", publish, "--disable-build-servers", "-nodeReuse:false"))
            .AssertSucceeded();

        var files = TemplateFiles.List(publish);
        Assert.Equal(
            [$"{Name}.WebSockets.dll", $"{Name}.WebSockets.pdb", $"{Name}.deps.json", $"{Name}.dll", $"{Name}.pdb", $"{Name}.runtimeconfig.json", $"{Name}.staticwebassets.endpoints.json"],
            files.Where(file => file.StartsWith($"{Name}.", StringComparison.Ordinal)).Where(file => file != Name && file != $"{Name}.exe"));
        Assert.Contains(Name, files); // the app's launcher (Acme.Realtime.exe on Windows)
        Assert.Equal(["appsettings.Development.json", "appsettings.json"], files.Where(file => file.StartsWith("appsettings", StringComparison.Ordinal)));
        Assert.Contains("wwwroot/wsauth.js", files);
        string[] testOnly = ["Tests", "xunit", "testhost", "TestPlatform", "NetArchTest", "Mvc.Testing", "Puppeteer", "WebDriverBiDi", "Playwright", "CodeCoverage", "Microsoft.Extensions.Diagnostics.Testing", "TimeProvider.Testing", "InMemory"];
        var leaked = files.Where(file => testOnly.Any(part => file.Contains(part, StringComparison.OrdinalIgnoreCase))).ToList();
        Assert.True(leaked.Count == 0, $"The publish output holds test files: {string.Join(", ", leaked)}");
    }

    [Fact]
    public async Task DatabasePostgresProducesAnAppOnNpgsqlThatPassesItsTestsAgainstARealPostgresServer()
    {
        using var output = new TempDirectory("postgres");
        (await hive.InstantiateAsync(Name, output.Path, "--database", "postgres")).AssertSucceeded();

        AssertGeneratedFiles(output.Path, includeTests: true, database: "postgres");
        Assert.Contains($"{App}/Data/Migrations/Postgres/AppDbContextModelSnapshot.cs", TemplateFiles.List(output.Path));
        var project = ReadText(output.Path, AppProject);
        var versions = ReadText(output.Path, PackageVersions);
        Assert.Contains("<PackageReference Include=\"Npgsql.EntityFrameworkCore.PostgreSQL\" />", project, StringComparison.Ordinal);
        Assert.Contains("<PackageVersion Include=\"Npgsql.EntityFrameworkCore.PostgreSQL\" Version=\"10.0.3\" />", versions, StringComparison.Ordinal);
        Assert.DoesNotContain("Microsoft.EntityFrameworkCore.Sqlite", project + versions, StringComparison.Ordinal);
        Assert.DoesNotContain("UsePostgres", project + versions, StringComparison.Ordinal);
        using var appsettings = JsonDocument.Parse(ReadText(output.Path, $"{App}/appsettings.json"));
        Assert.Equal(
            "Host=localhost;Port=5432;Database=realtime;Username=realtime;Password=realtime-dev-password",
            appsettings.RootElement.GetProperty("ConnectionStrings").GetProperty("Default").GetString());
        Assert.Contains("options.UseNpgsql(connectionString);", ReadText(output.Path, $"{App}/Data/DatabaseServiceCollectionExtensions.cs"), StringComparison.Ordinal);

        await AssertBuildsWithoutWarningsAsync(output.Path);
        // The generated suite's own PostgresServer runs it against real PostgreSQL.
        await AssertGeneratedTestsPassAsync(output.Path);
    }

    [Fact]
    public async Task DatabaseSqliteIsTheDefaultAndLeavesOutNpgsql()
    {
        using var output = new TempDirectory("sqlite");
        (await hive.InstantiateAsync(Name, output.Path, "--database", "sqlite", "--tests", "false")).AssertSucceeded();

        AssertGeneratedFiles(output.Path, includeTests: false);
        var project = ReadText(output.Path, AppProject);
        var versions = ReadText(output.Path, PackageVersions);
        Assert.Contains("<PackageReference Include=\"Microsoft.EntityFrameworkCore.Sqlite\" />", project, StringComparison.Ordinal);
        Assert.Contains("<PackageVersion Include=\"Microsoft.EntityFrameworkCore.Sqlite\" Version=\"10.0.15\" />", versions, StringComparison.Ordinal);
        Assert.DoesNotContain("Npgsql", project + versions, StringComparison.Ordinal);
        Assert.DoesNotContain("Microsoft.NET.Test.Sdk", versions, StringComparison.Ordinal);
        Assert.Contains("\"Default\": \"Data Source=app.db\"", ReadText(output.Path, $"{App}/appsettings.json"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TestsFalseLeavesOutTheTestProjectAndItsSolutionEntry()
    {
        using var output = new TempDirectory("no-tests");
        (await hive.InstantiateAsync(Name, output.Path, "--tests", "false")).AssertSucceeded();

        AssertGeneratedFiles(output.Path, includeTests: false);
        Assert.False(Directory.Exists(Path.Combine(output.Path, "tests")), "The tests folder was generated.");
        Assert.DoesNotContain("Tests.csproj", ReadText(output.Path, $"{Name}.slnx"), StringComparison.Ordinal);
        Assert.DoesNotMatch(@"(?i)\btests?\b", ReadText(output.Path, "README.md"));

        await AssertBuildsWithoutWarningsAsync(output.Path);
    }

    [Fact]
    public async Task RedisFalseLeavesOutTheBackplaneAndPassesItsTestsWithOneMinuteTokens()
    {
        // One set for two options, to keep CI short: --token-minutes only writes appsettings.json (see
        // TokenMinutesSetsTheAccessTokenLifetimeAndTouchesNothingElse), and the suite must pass with tokens that short.
        using var output = new TempDirectory("no-redis");
        (await hive.InstantiateAsync(Name, output.Path, "--redis", "false", "--token-minutes", "1")).AssertSucceeded();

        AssertGeneratedFiles(output.Path, includeTests: true, redis: false);
        Assert.DoesNotContain("StackExchange.Redis", ReadText(output.Path, LibraryProject) + ReadText(output.Path, PackageVersions), StringComparison.Ordinal);
        AssertNoInPlaceSymbols(output.Path);
        var realtime = ReadText(output.Path, $"src/{Name}.WebSockets/RealtimeServiceCollectionExtensions.cs");
        Assert.DoesNotContain("Redis", realtime, StringComparison.Ordinal);
        Assert.DoesNotContain("#if", realtime, StringComparison.Ordinal);

        await AssertBuildsWithoutWarningsAsync(output.Path);
        await AssertGeneratedTestsPassAsync(output.Path);
    }

    [Fact]
    public async Task ExamplesFalseLeavesTheAuthAndRealtimeLayersAndPassesItsTests()
    {
        using var output = new TempDirectory("no-examples");
        (await hive.InstantiateAsync(Name, output.Path, "--examples", "false")).AssertSucceeded();

        AssertGeneratedFiles(output.Path, includeTests: true, examples: false);
        Assert.Equal([$"{App}/Consumers/ConsumersServiceCollectionExtensions.cs"], TemplateFiles.List(output.Path).Where(path => path.StartsWith($"{App}/Consumers/", StringComparison.Ordinal)));
        // The browser client stays (it knows no consumer); the demo page goes.
        Assert.Equal([$"{App}/wwwroot/wsauth.js"], TemplateFiles.List(output.Path).Where(path => path.StartsWith($"{App}/wwwroot/", StringComparison.Ordinal)));
        // No example consumer, endpoint, entity, setting or page is left anywhere, docs and tests included.
        var mentions = TemplateFiles.List(output.Path)
            .SelectMany(path => File.ReadLines(Path.Combine(output.Path, path)).Select((line, index) => (path, line, number: index + 1)))
            .Where(hit => ExampleNames.Any(example => hit.line.Contains(example, StringComparison.OrdinalIgnoreCase)))
            .Select(hit => $"{hit.path}:{hit.number}: {hit.line.Trim()}")
            .ToList();
        Assert.True(mentions.Count == 0, $"The examples survived --examples false:{Environment.NewLine}{string.Join(Environment.NewLine, mentions)}");
        using var appsettings = JsonDocument.Parse(ReadText(output.Path, $"{App}/appsettings.json"));
        Assert.False(appsettings.RootElement.GetProperty("WebSockets").TryGetProperty("OrgHistory", out _), "OrgHistory is an example consumer's setting.");

        await AssertBuildsWithoutWarningsAsync(output.Path);
        await AssertGeneratedTestsPassAsync(output.Path);
    }

    [Fact]
    public async Task TheLeanestAppBuildsWithItsTestsOnPostgresWithoutExamplesOrRedis()
    {
        // Every option off at once (but the tests, so that their conditionals compile in this combination too).
        using var output = new TempDirectory("leanest");
        (await hive.InstantiateAsync(Name, output.Path, "--examples", "false", "--redis", "false", "--database", "postgres")).AssertSucceeded();

        AssertGeneratedFiles(output.Path, includeTests: true, database: "postgres", redis: false, examples: false);
        var migrations = Directory.GetFiles(Path.Combine(output.Path, App, "Data/Migrations/Postgres")).Select(path => Path.GetFileName(path)!).ToList();
        Assert.Contains(migrations, file => file.EndsWith("_InitialCreate.cs", StringComparison.Ordinal));
        Assert.DoesNotContain(migrations, file => file.Contains("ExampleConsumers", StringComparison.Ordinal));
        Assert.False(File.Exists(Path.Combine(output.Path, App, "Data/Migrations/AppDbContextModelSnapshot.cs")), "SQLite's migrations were generated.");

        await AssertBuildsWithoutWarningsAsync(output.Path);
    }

    /// <summary>
    /// Every combination of the options that choose files writes exactly its files, with no template directive
    /// or symbol left in any of them (the sets above also build and run their tests).
    /// </summary>
    [Theory]
    [MemberData(nameof(FileChoosingOptions))]
    public async Task EveryOptionCombinationWritesExactlyItsFilesAndNoDirective(bool examples, bool tests, bool redis, string database)
    {
        using var output = new TempDirectory($"combination-{examples}-{tests}-{redis}-{database}");
        (await hive.InstantiateAsync(Name, output.Path,
            "--examples", examples ? "true" : "false", "--tests", tests ? "true" : "false",
            "--redis", redis ? "true" : "false", "--database", database)).AssertSucceeded();

        AssertGeneratedFiles(output.Path, tests, database, redis, examples);
        var directives = TemplateFiles.List(output.Path)
            .SelectMany(path => File.ReadLines(Path.Combine(output.Path, path)).Select((line, index) => (path, line, number: index + 1)))
            .Where(hit => TemplateDirective.IsMatch(hit.line))
            .Select(hit => $"{hit.path}:{hit.number}: {hit.line.Trim()}")
            .ToList();
        Assert.True(directives.Count == 0, $"Template directives survived:{Environment.NewLine}{string.Join(Environment.NewLine, directives)}");
    }

    public static TheoryData<bool, bool, bool, string> FileChoosingOptions()
    {
        var data = new TheoryData<bool, bool, bool, string>();
        foreach (var examples in new[] { true, false })
        {
            foreach (var tests in new[] { true, false })
            {
                foreach (var redis in new[] { true, false })
                {
                    foreach (var database in new[] { "sqlite", "postgres" })
                    {
                        data.Add(examples, tests, redis, database);
                    }
                }
            }
        }

        return data;
    }

    // What only the example consumers name: their endpoints, entities, stream kinds and setting.
    private static readonly string[] ExampleNames =
        ["/ws/notifications", "/ws/events", "/api/notifications", "/events", "notification", "OrganizationEvent", "org.event", "OrgHistory", "index.html", "app.js"];

    // A conditional of any of the template's syntaxes (C#, MSBuild/Markdown, JSON, .http), or a computed or generated symbol of template.json.
    private static readonly Regex TemplateDirective =
        new(@"^\s*(#if \(|#elif|#else\b|#endif\b|<!--#|//#|### #)|\b(UsePostgres|skipRestore|tokenMinutes|httpPort)\b", RegexOptions.Compiled);

    [Fact]
    public async Task TokenMinutesSetsTheAccessTokenLifetimeAndTouchesNothingElse()
    {
        using var output = new TempDirectory("token-minutes");
        using var defaults = new TempDirectory("token-minutes-default");
        (await hive.InstantiateAsync(Name, output.Path, "--token-minutes", "1")).AssertSucceeded();
        (await hive.InstantiateAsync(Name, defaults.Path)).AssertSucceeded();

        AssertGeneratedFiles(output.Path, includeTests: true);
        Assert.Matches(@"""AccessTokenMinutes"": 1\b", ReadText(output.Path, $"{App}/appsettings.json"));
        // The default changes where the code, appsettings.json and the README state it (so the generated
        // ReadmeConfigurationTests hold), and nothing else does: other files differ only in generated values.
        var changed = new Dictionary<string, (string From, string To)>
        {
            [$"{App}/appsettings.json"] = ("\"AccessTokenMinutes\": 15", "\"AccessTokenMinutes\": 1"),
            [$"{App}/Auth/JwtOptions.cs"] = ("public int AccessTokenMinutes { get; set; } = 15;", "public int AccessTokenMinutes { get; set; } = 1;"),
            ["README.md"] = ("| `Jwt:AccessTokenMinutes` | `15` |", "| `Jwt:AccessTokenMinutes` | `1` |"),
        };
        foreach (var (path, (from, to)) in changed)
        {
            var expected = ReadText(defaults.Path, path);
            Assert.Contains(from, expected, StringComparison.Ordinal);
            var port = ReadPort(defaults.Path).ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal(
                expected.Replace(from, to, StringComparison.Ordinal).Replace(port, "PORT", StringComparison.Ordinal),
                ReadText(output.Path, path).Replace(ReadPort(output.Path).ToString(System.Globalization.CultureInfo.InvariantCulture), "PORT", StringComparison.Ordinal));
        }

        Assert.Equal(TemplateFiles.List(defaults.Path).Where(path => !changed.ContainsKey(path)).Select(path => (path, ReadText(defaults.Path, path).Length)),
            TemplateFiles.List(output.Path).Where(path => !changed.ContainsKey(path)).Select(path => (path, ReadText(output.Path, path).Length)));
    }

    [Theory]
    [InlineData("0")]
    [InlineData("1441")]
    public async Task TokenMinutesOutsideOneTo1440IsRefusedAtGeneration(string minutes)
    {
        using var output = new TempDirectory($"token-minutes-{minutes}");
        var result = await hive.InstantiateAsync(Name, output.Path, "--token-minutes", minutes);

        Assert.Equal(102, result.ExitCode); // the template engine's "missing mandatory option"
        Assert.Contains("'--token-minutes-must-be-1-to-1440'", result.Output, StringComparison.Ordinal);
        Assert.Empty(TemplateFiles.List(output.Path));
    }

    [Fact]
    public async Task EachInstantiationGetsItsOwnRandomSigningKey()
    {
        using var first = new TempDirectory("key-1");
        using var second = new TempDirectory("key-2");
        (await hive.InstantiateAsync(Name, first.Path, "--tests", "false")).AssertSucceeded();
        (await hive.InstantiateAsync(Name, second.Path, "--tests", "false")).AssertSucceeded();

        var placeholder = ReadSigningKey(RepositoryRoot.TemplateDirectory);
        var firstKey = ReadSigningKey(first.Path);
        var secondKey = ReadSigningKey(second.Path);

        Assert.Matches("^[0-9a-f]{64}$", firstKey);
        Assert.Matches("^[0-9a-f]{64}$", secondKey);
        Assert.NotEqual(placeholder, firstKey);
        Assert.NotEqual(placeholder, secondKey);
        Assert.NotEqual(firstKey, secondKey);
    }

    [Fact]
    public async Task EachInstantiationListensOnAPortOfItsOwnAndKeepsItsUserSecretsApart()
    {
        var outputs = Enumerable.Range(1, 3).Select(n => new TempDirectory($"port-{n}")).ToList();
        try
        {
            foreach (var output in outputs)
            {
                (await hive.InstantiateAsync(Name, output.Path, "--tests", "false")).AssertSucceeded();
            }

            var ports = outputs.Select(output => ReadPort(output.Path)).ToList();
            var secrets = outputs.Select(output => ReadUserSecretsId(output.Path)).ToList();

            Assert.All(ports, port => Assert.InRange(port, 5000, 5300));
            // Three draws from 301 ports: all three alike by chance once in 90,000 runs.
            Assert.True(ports.Distinct().Count() > 1, $"Every instantiation got port {ports[0]}.");
            Assert.All(secrets, secret => Assert.Matches($"^{Regex.Escape(Name)}-[0-9a-f]{{8}}(-[0-9a-f]{{4}}){{3}}-[0-9a-f]{{12}}$", secret));
            Assert.Equal(secrets.Count, secrets.Distinct().Count());
            Assert.DoesNotContain(ReadUserSecretsId(RepositoryRoot.TemplateDirectory).Split('-', 2)[1], secrets.Select(secret => secret.Split('-', 2)[1]));
        }
        finally
        {
            outputs.ForEach(output => output.Dispose());
        }
    }

    /// <summary>The HTTP port of launchSettings.json, after checking that the .http file and the README use the same one.</summary>
    internal static int ReadPort(string directory)
    {
        var app = AppFolder(directory);
        var port = int.Parse(Regex.Match(ReadText(directory, $"{app}/Properties/launchSettings.json"), @"""applicationUrl"": ""http://localhost:(\d+)""").Groups[1].Value);
        Assert.Contains($"@host = http://localhost:{port}", ReadText(directory, $"{app}/{Path.GetFileName(app)}.http"), StringComparison.Ordinal);
        Assert.Contains($"http://localhost:{port}", ReadText(directory, "README.md"), StringComparison.Ordinal);
        return port;
    }

    internal static string ReadUserSecretsId(string directory) =>
        Regex.Match(ReadText(directory, $"{AppFolder(directory)}/{Path.GetFileName(AppFolder(directory))}.csproj"), "<UserSecretsId>([^<]+)</UserSecretsId>").Groups[1].Value;

    /// <summary>The app's folder in the template itself (<c>src/Company.RealtimeApp1</c>) or in an instantiation (<c>src/Acme.Realtime</c>).</summary>
    private static string AppFolder(string directory) =>
        directory == RepositoryRoot.TemplateDirectory ? TemplateFiles.AppFolder.TrimEnd('/') : App;

    /// <summary>The in-place build's symbols (every option on) stay in the template: no generated project file defines them.</summary>
    private static void AssertNoInPlaceSymbols(string outputDirectory)
    {
        foreach (var file in TemplateFiles.List(outputDirectory).Where(path => path.EndsWith("proj", StringComparison.Ordinal) || path.EndsWith(".props", StringComparison.Ordinal)))
        {
            Assert.DoesNotContain("DefineConstants", ReadText(outputDirectory, file), StringComparison.Ordinal);
        }
    }

    /// <summary>Every package has one exact version, in Directory.Packages.props: no range, no floating <c>*</c>, none set in a project.</summary>
    private static void AssertEveryPackageVersionIsExact(string outputDirectory)
    {
        foreach (var file in TemplateFiles.List(outputDirectory).Where(path => path.EndsWith("proj", StringComparison.Ordinal)))
        {
            Assert.DoesNotMatch(@"<PackageReference [^>]*Version=", ReadText(outputDirectory, file));
        }

        var versions = Regex.Matches(ReadText(outputDirectory, PackageVersions), @"<PackageVersion Include=""([^""]+)"" Version=""([^""]+)""").ToList();
        Assert.NotEmpty(versions);
        Assert.All(versions, version => Assert.Matches(@"^\d+\.\d+\.\d+$", version.Groups[2].Value));

        // dotnet-ef is pinned to the EF Core the app uses (a plain `dotnet tool install dotnet-ef` takes the newest major).
        var efCore = versions.Single(version => version.Groups[1].Value == "Microsoft.EntityFrameworkCore.Design").Groups[2].Value;
        using var tools = JsonDocument.Parse(ReadText(outputDirectory, ".config/dotnet-tools.json"));
        Assert.Equal(efCore, tools.RootElement.GetProperty("tools").GetProperty("dotnet-ef").GetProperty("version").GetString());
    }

    private static void AssertGeneratedFiles(string outputDirectory, bool includeTests, string database = "sqlite", bool redis = true, bool examples = true)
    {
        var generated = TemplateFiles.List(outputDirectory);
        Assert.Equal(TemplateFiles.Generated(Name, includeTests, database, redis, examples), generated);
        foreach (var keyFile in new[] { AppProject, LibraryProject, ClientProject, $"{Name}.slnx", $"{App}/Program.cs" })
        {
            Assert.Contains(keyFile, generated);
        }

        var leftovers = generated
            .SelectMany(path => File.ReadLines(Path.Combine(outputDirectory, path)).Select((line, index) => (path, line, number: index + 1)))
            .Where(hit => hit.line.Contains("RealtimeApp1", StringComparison.OrdinalIgnoreCase))
            .Select(hit => $"{hit.path}:{hit.number}: {hit.line.Trim()}")
            .ToList();
        Assert.True(leftovers.Count == 0, $"The template's name survived instantiation:{Environment.NewLine}{string.Join(Environment.NewLine, leftovers)}");
    }

    private static async Task AssertBuildsWithoutWarningsAsync(string outputDirectory) =>
        (await DotNet.RunAsync(outputDirectory, "build", $"{Name}.slnx", "-warnaserror", "--disable-build-servers", "-nodeReuse:false"))
            .AssertSucceeded();

    private const string NameDependentTests =
        "FullyQualifiedName~ArchitectureTests|FullyQualifiedName~ReadmeQuickStartTests|FullyQualifiedName~HttpFileWalkTests|FullyQualifiedName~ReadmeConfigurationTests"
        + "|FullyQualifiedName~CredentialLoggingTests|FullyQualifiedName~AsyncApiDocumentTests|FullyQualifiedName~CommandLineTests|FullyQualifiedName~DevelopmentSeedTests"
        + "|FullyQualifiedName~StartupValidationTests";

    private static async Task AssertGeneratedTestsPassAsync(string outputDirectory, string? filter = null)
    {
        string[] arguments = filter is null ? ["test", $"{Name}.slnx", "--no-build"] : ["test", $"{Name}.slnx", "--no-build", "--filter", filter];
        var result = await DotNet.RunAsync(outputDirectory, arguments);
        result.AssertSucceeded();
        Assert.Matches(@"Passed:\s+[1-9]", result.Output); // a filter that matched nothing would pass too
    }

    private static string ReadText(string directory, string relativePath) =>
        File.ReadAllText(Path.Combine(directory, relativePath));

    internal static string ReadSigningKey(string directory)
    {
        using var document = JsonDocument.Parse(
            ReadText(directory, $"{AppFolder(directory)}/appsettings.Development.json"),
            new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        return FindString(document.RootElement, "SigningKey")
            ?? throw new Xunit.Sdk.XunitException($"No SigningKey in {directory}/appsettings.Development.json.");
    }

    private static string? FindString(JsonElement element, string propertyName)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        foreach (var property in element.EnumerateObject())
        {
            if (property.NameEquals(propertyName) && property.Value.ValueKind == JsonValueKind.String)
            {
                return property.Value.GetString();
            }

            if (FindString(property.Value, propertyName) is { } nested)
            {
                return nested;
            }
        }

        return null;
    }
}

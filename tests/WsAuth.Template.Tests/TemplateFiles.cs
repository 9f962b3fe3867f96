namespace WsAuth.Template.Tests;

/// <summary>What the template holds and what an instantiation of it should write.</summary>
internal static class TemplateFiles
{
    public const string SourceName = "Company.RealtimeApp1";
    public const string TestsFolder = "tests/";

    /// <summary>The app's folder, the realtime library's and the .NET client's, relative to the template's root.</summary>
    public const string AppFolder = $"src/{SourceName}/";
    public const string LibraryFolder = $"src/{SourceName}.WebSockets/";
    public const string ClientFolder = $"src/{SourceName}.Client/";

    // Mirrors the source excludes in .template.config/template.json and WsAuthTemplate.csproj.
    private static readonly string[] ExcludedFolders = ["bin", "obj", ".vs", "TestResults"];
    private static readonly string[] ExcludedExtensions = [".user", ".db", ".db-shm", ".db-wal"];

    // Mirrors the database modifiers in .template.config/template.json.
    private const string PostgresMigrations = $"{AppFolder}Data/Migrations/Postgres/";
    private static readonly string[] PostgresOnly = [PostgresMigrations, $"tests/{SourceName}.Tests/Support/PostgresServer.cs"];

    /// <summary>The template's files, relative to template/ with '/' separators, as the template engine sees them.</summary>
    public static IReadOnlyList<string> InTemplate(bool includeTests) =>
        List(RepositoryRoot.TemplateDirectory)
            .Where(path => includeTests || !path.StartsWith(TestsFolder, StringComparison.Ordinal))
            .ToList();

    /// <summary>
    /// The files an instantiation named <paramref name="name"/> with <c>--database <paramref name="database"/></c>,
    /// <c>--redis <paramref name="redis"/></c> and <c>--examples <paramref name="examples"/></c> should write.
    /// </summary>
    public static IReadOnlyList<string> Generated(string name, bool includeTests, string database = "sqlite", bool redis = true, bool examples = true) =>
        InTemplate(includeTests)
            .Where(path => database == "postgres" ? !IsSqliteOnly(path) : !PostgresOnly.Any(prefix => path.StartsWith(prefix, StringComparison.Ordinal)))
            .Where(path => redis || !IsRedisOnly(path))
            .Where(path => examples || !IsExamplesOnly(path))
            .Select(path => path.Replace(SourceName, name, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>Every file under <paramref name="directory"/>, hidden ones included, less build output and local state.</summary>
    public static IReadOnlyList<string> List(string directory) =>
        Directory.EnumerateFiles(directory, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(path => Path.GetRelativePath(directory, path).Replace(Path.DirectorySeparatorChar, '/'))
            .Where(path => !IsExcluded(path))
            .Order(StringComparer.Ordinal)
            .ToList();

    /// <summary>What <c>--redis false</c> leaves out: the backplane and the tests that need a Redis server.</summary>
    private static bool IsRedisOnly(string path) =>
        path.StartsWith($"{LibraryFolder}Backplane/Redis/", StringComparison.Ordinal)
        || (path.StartsWith(TestsFolder, StringComparison.Ordinal)
            && (path.Contains("/WebSockets/Redis", StringComparison.Ordinal)
                || path.EndsWith("/Support/RedisServer.cs", StringComparison.Ordinal)
                || path.EndsWith("/Support/RealtimeCluster.cs", StringComparison.Ordinal)));

    /// <summary>
    /// What <c>--examples false</c> leaves out: the two example consumers (every file of Consumers/ but the
    /// registration seam), their migration, the browser page (not its client, wsauth.js, which knows no consumer), and their tests.
    /// </summary>
    private static bool IsExamplesOnly(string path) =>
        (path.StartsWith($"{AppFolder}Consumers/", StringComparison.Ordinal) && path != $"{AppFolder}Consumers/ConsumersServiceCollectionExtensions.cs")
        || (path.StartsWith($"{AppFolder}Data/Migrations/", StringComparison.Ordinal) && path.Contains("_ExampleConsumers.", StringComparison.Ordinal))
        || (path.StartsWith($"{AppFolder}wwwroot/", StringComparison.Ordinal) && path != $"{AppFolder}wwwroot/wsauth.js")
        || (path.StartsWith(TestsFolder, StringComparison.Ordinal)
            && (path.Contains("/Consumers/", StringComparison.Ordinal)
                || path.Contains("/Browser/", StringComparison.Ordinal)
                || path.EndsWith("/Data/StreamStoreTests.cs", StringComparison.Ordinal)
                || path.EndsWith("/WebSockets/RedisOutageTests.cs", StringComparison.Ordinal)
                || path.EndsWith("/WebSockets/RedisStreamOrderTests.cs", StringComparison.Ordinal)
                || path.EndsWith("/WebSockets/RedisPresenceTests.cs", StringComparison.Ordinal)));

    private static bool IsSqliteOnly(string path) =>
        path == $"{AppFolder}Data/SqlitePragmas.cs"
        || (path.StartsWith($"{AppFolder}Data/Migrations/", StringComparison.Ordinal) && !path.StartsWith(PostgresMigrations, StringComparison.Ordinal));

    private static bool IsExcluded(string relativePath)
    {
        var segments = relativePath.Split('/');
        return segments[..^1].Any(folder => ExcludedFolders.Contains(folder, StringComparer.Ordinal))
            || ExcludedExtensions.Any(extension => relativePath.EndsWith(extension, StringComparison.Ordinal));
    }
}

namespace WsAuth.Bench.Infrastructure;

/// <summary>Where things are: the repository, <c>bench/</c>, its results and its scratch space.</summary>
internal sealed class BenchPaths
{
    private BenchPaths(string root)
    {
        Root = root;
        Bench = Path.Combine(root, "bench");
        Results = Path.Combine(Bench, "results");
        Temp = Path.Combine(Results, "tmp");
    }

    public string Root { get; }

    public string Bench { get; }

    public string Results { get; }

    /// <summary>Ignored by git: the generated app, the template hive, databases and server logs.</summary>
    public string Temp { get; }

    public string Logs => Path.Combine(Temp, "logs");

    /// <summary>The repository root: the first directory above this program holding <c>WsAuth.slnx</c>.</summary>
    public static BenchPaths Find()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var directory = new DirectoryInfo(start); directory is not null; directory = directory.Parent)
            {
                if (File.Exists(Path.Combine(directory.FullName, "WsAuth.slnx")) && Directory.Exists(Path.Combine(directory.FullName, "template")))
                {
                    return new BenchPaths(directory.FullName);
                }
            }
        }

        throw new InvalidOperationException("Run from inside the WsAuth repository: no WsAuth.slnx found above the current directory.");
    }
}

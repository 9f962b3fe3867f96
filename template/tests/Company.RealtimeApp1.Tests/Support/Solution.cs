namespace Company.RealtimeApp1.Tests;

/// <summary>The generated solution the tests belong to: its folder, and its README, which some tests hold the code to.</summary>
public static class Solution
{
    /// <summary>The folder above the test binaries that holds the README beside a solution file.</summary>
    public static string Directory { get; } = Find();

    /// <summary>The README, with <c>\n</c> line endings.</summary>
    public static string ReadReadme() => File.ReadAllText(Path.Combine(Directory, "README.md")).ReplaceLineEndings("\n");

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "README.md")) && directory.EnumerateFiles("*.slnx").Any())
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No README.md beside a solution file above {AppContext.BaseDirectory}.");
    }
}

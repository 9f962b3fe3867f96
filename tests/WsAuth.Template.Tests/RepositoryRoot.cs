namespace WsAuth.Template.Tests;

/// <summary>The template repository these tests run from, found by walking up to the template package.</summary>
internal static class RepositoryRoot
{
    public const string PackageProject = "WsAuthTemplate.csproj";

    public static string Path { get; } = Find();

    public static string TemplateDirectory => System.IO.Path.Combine(Path, "template");

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(directory.FullName, PackageProject)))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No {PackageProject} in {AppContext.BaseDirectory} or any folder above it.");
    }
}

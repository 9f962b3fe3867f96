namespace WsAuth.Template.Tests;

/// <summary>
/// An isolated template hive (<c>--debug:custom-hive</c>) with the template installed from the repository folder,
/// so the tests neither see nor disturb the machine's own templates.
/// </summary>
public sealed class TemplateHive : IAsyncLifetime
{
    public const string ShortName = "wsauth";

    private readonly TempDirectory directory = new("hive");

    public string Path => directory.Path;

    public async Task InitializeAsync()
    {
        var install = await DotNet.RunAsync(RepositoryRoot.Path, "new", "install", RepositoryRoot.Path, "--debug:custom-hive", Path);
        if (install.ExitCode != 0)
        {
            throw new InvalidOperationException($"Installing the template failed. {install}");
        }
    }

    /// <summary>Runs <c>dotnet new wsauth</c> into <paramref name="outputDirectory"/>, without the restore post action.</summary>
    internal Task<ProcessResult> InstantiateAsync(string name, string outputDirectory, params string[] options) =>
        DotNet.RunAsync(
            System.IO.Path.GetDirectoryName(outputDirectory)!,
            ["new", ShortName, "-n", name, "-o", outputDirectory, "--debug:custom-hive", Path, "--no-update-check", "--no-restore", .. options]);

    public Task DisposeAsync()
    {
        directory.Dispose();
        return Task.CompletedTask;
    }
}

[CollectionDefinition(Name)]
public sealed class TemplateCollection : ICollectionFixture<TemplateHive>
{
    // One collection: its tests run one after another, so two builds never compete for the machine's cores.
    public const string Name = "Template";
}

using System.IO.Compression;

namespace WsAuth.Template.Tests;

// In the template collection only to run apart from the builds; it installs into its own hive.
[Collection(TemplateCollection.Name)]
public sealed class TemplatePackageTests
{
    private const string PackageFile = "WsAuthTemplate.0.1.0.nupkg";

    [Fact]
    public async Task PackMakesAnInstallablePackageOfTheTemplateAloneWithoutBuildOutput()
    {
        using var packages = new TempDirectory("packages");
        using var hive = new TempDirectory("package-hive");

        (await DotNet.RunAsync(RepositoryRoot.Path, "pack", RepositoryRoot.PackageProject, "-o", packages.Path, "-nodeReuse:false"))
            .AssertSucceeded();
        var package = Path.Combine(packages.Path, PackageFile);
        Assert.True(File.Exists(package), $"No {PackageFile}; found: {string.Join(", ", Directory.GetFiles(packages.Path).Select(Path.GetFileName))}");

        List<string> entries;
        using (var archive = ZipFile.OpenRead(package))
        {
            entries = archive.Entries.Select(entry => entry.FullName).ToList();
        }

        Assert.Contains("content/.template.config/template.json", entries);
        Assert.Contains("content/.template.config/dotnetcli.host.json", entries);
        Assert.Contains($"content/template/{TemplateFiles.SourceName}.slnx", entries);
        Assert.Contains($"content/template/{TemplateFiles.AppFolder}{TemplateFiles.SourceName}.csproj", entries);
        Assert.Contains($"content/template/{TemplateFiles.AppFolder}Program.cs", entries);
        Assert.Contains($"content/template/{TemplateFiles.LibraryFolder}{TemplateFiles.SourceName}.WebSockets.csproj", entries);
        Assert.Contains($"content/template/{TemplateFiles.ClientFolder}{TemplateFiles.SourceName}.Client.csproj", entries);
        Assert.Contains(entries, entry => entry.StartsWith("content/template/tests/", StringComparison.Ordinal));
        Assert.DoesNotContain(entries, entry => entry.Contains("/bin/", StringComparison.Ordinal) || entry.Contains("/obj/", StringComparison.Ordinal));
        Assert.DoesNotContain(entries, entry => entry.StartsWith("content/tests/", StringComparison.Ordinal));
        Assert.Equal(
            TemplateFiles.InTemplate(includeTests: true).Select(path => $"content/template/{path}").Order(StringComparer.Ordinal),
            entries.Where(entry => entry.StartsWith("content/template/", StringComparison.Ordinal)).Order(StringComparer.Ordinal));

        (await DotNet.RunAsync(packages.Path, "new", "install", package, "--debug:custom-hive", hive.Path))
            .AssertSucceeded();
    }
}

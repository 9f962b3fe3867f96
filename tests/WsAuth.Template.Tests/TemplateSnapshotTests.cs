using System.Diagnostics;
using System.Globalization;

namespace WsAuth.Template.Tests;

/// <summary>
/// Snapshot tests of what each option does to the generated files, as dotnet/sdk's and dotnet/extensions' templates
/// have them with TemplateVerifier (which this machine's NuGet registry does not serve). A snapshot,
/// <c>Snapshots/&lt;option&gt;.diff</c>, is the difference between the default app and the app with that option
/// changed: the files it leaves out or adds, and a unified diff of every file it changes. A change to the template
/// that changes what an option generates fails here until the snapshot is brought up to date
/// (<c>WSAUTH_UPDATE_SNAPSHOTS=1 dotnet test --filter TemplateSnapshotTests</c>, never under <c>CI=true</c>) and
/// the new snapshot reviewed in the commit.
/// </summary>
[Collection(TemplateCollection.Name)]
public sealed partial class TemplateSnapshotTests(TemplateHive hive)
{
    private const string Name = "Acme.Realtime";

    public static TheoryData<string, string[]> Options() => new()
    {
        { "examples-false", ["--examples", "false"] },
        { "tests-false", ["--tests", "false"] },
        { "redis-false", ["--redis", "false"] },
        { "database-postgres", ["--database", "postgres"] },
        { "token-minutes-5", ["--token-minutes", "5"] },
    };

    [Theory]
    [MemberData(nameof(Options))]
    public async Task WhatAnOptionChangesMatchesItsSnapshot(string snapshot, string[] options)
    {
        using var workspace = new TempDirectory($"snapshot-{snapshot}");
        var defaults = Path.Combine(workspace.Path, "default");
        var changed = Path.Combine(workspace.Path, snapshot);
        await InstantiateAsync(defaults);
        await InstantiateAsync(changed, options);
        // Each instantiation draws its own signing key, port and user-secrets id: placeholders stand for them.
        Normalize(defaults);
        Normalize(changed);

        var actual = await DiffAsync(workspace.Path, "default", snapshot);
        var path = Path.Combine(RepositoryRoot.Path, "tests", "WsAuth.Template.Tests", "Snapshots", snapshot + ".diff");
        if (Environment.GetEnvironmentVariable("WSAUTH_UPDATE_SNAPSHOTS") == "1" && Environment.GetEnvironmentVariable("CI") != "true")
        {
            await File.WriteAllTextAsync(path, actual);
        }

        Assert.True(File.Exists(path), $"No snapshot {path}: run with WSAUTH_UPDATE_SNAPSHOTS=1 to write it, and review it.");
        var expected = (await File.ReadAllTextAsync(path)).ReplaceLineEndings("\n");
        var received = Path.ChangeExtension(path, ".received.diff");
        if (expected == actual)
        {
            File.Delete(received);
            return;
        }

        await File.WriteAllTextAsync(received, actual);
        Assert.Fail(
            $"What {string.Join(' ', options)} generates changed: compare {received} with {snapshot}.diff. If the change is intended, run with WSAUTH_UPDATE_SNAPSHOTS=1 (or move the received file over the snapshot) and review it in the commit.");
    }

    /// <summary>
    /// Instantiates into <paramref name="output"/> with a port that is the app's alone: one the template also writes
    /// literally (the cluster example's 5101, say) would be taken for the app's by <see cref="Normalize"/>.
    /// </summary>
    private async Task InstantiateAsync(string output, params string[] options)
    {
        while (true)
        {
            (await hive.InstantiateAsync(Name, output, options)).AssertSucceeded();
            var port = TemplateInstantiationTests.ReadPort(output).ToString(CultureInfo.InvariantCulture);
            if (port == "5180" || !TemplateText.Value.Contains($":{port}", StringComparison.Ordinal))
            {
                return;
            }

            Directory.Delete(output, recursive: true);
        }
    }

    private static readonly Lazy<string> TemplateText = new(() => string.Join(
        '\n', TemplateFiles.List(RepositoryRoot.TemplateDirectory).Select(path => File.ReadAllText(Path.Combine(RepositoryRoot.TemplateDirectory, path)))));

    private static void Normalize(string directory)
    {
        var replacements = new[]
        {
            (TemplateInstantiationTests.ReadSigningKey(directory), "<signing key>"),
            ($":{TemplateInstantiationTests.ReadPort(directory).ToString(CultureInfo.InvariantCulture)}", ":<port>"), // localhost:, 127.0.0.1:
            (TemplateInstantiationTests.ReadUserSecretsId(directory), "<user secrets id>"),
        };
        foreach (var file in TemplateFiles.List(directory).Select(path => Path.Combine(directory, path)))
        {
            var text = File.ReadAllText(file);
            var normalized = replacements.Aggregate(text, (current, replacement) => current.Replace(replacement.Item1, replacement.Item2, StringComparison.Ordinal));
            if (normalized != text)
            {
                File.WriteAllText(file, normalized);
            }
        }
    }

    /// <summary>The files only one side has, by name, then <c>git diff --no-index</c>'s hunks of the files both have.</summary>
    private static async Task<string> DiffAsync(string directory, string from, string to)
    {
        var before = TemplateFiles.List(Path.Combine(directory, from)).ToHashSet(StringComparer.Ordinal);
        var after = TemplateFiles.List(Path.Combine(directory, to)).ToHashSet(StringComparer.Ordinal);
        var summary = new System.Text.StringBuilder();
        foreach (var removed in before.Except(after).Order(StringComparer.Ordinal))
        {
            summary.Append("not generated: ").Append(removed).Append('\n');
        }

        foreach (var added in after.Except(before).Order(StringComparer.Ordinal))
        {
            summary.Append("generated only here: ").Append(added).Append('\n');
        }

        foreach (var path in before.Intersect(after).Order(StringComparer.Ordinal))
        {
            var hunks = await GitDiffAsync(directory, $"{from}/{path}", $"{to}/{path}");
            if (hunks.Length > 0)
            {
                summary.Append(hunks);
            }
        }

        return summary.ToString();
    }

    private static async Task<string> GitDiffAsync(string directory, string from, string to)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "-c", "core.autocrlf=false", "diff", "--no-index", "--no-color", "--no-ext-diff", "-U2", "--", from, to })
        {
            start.ArgumentList.Add(argument);
        }

        using var git = Process.Start(start)!;
        var output = await git.StandardOutput.ReadToEndAsync();
        var error = await git.StandardError.ReadToEndAsync();
        await git.WaitForExitAsync();
        Assert.True(git.ExitCode is 0 or 1, $"git diff --no-index failed ({git.ExitCode}): {error}");
        // Without the index line (blob hashes) and the hunks' line numbers, so that an edit elsewhere in a file does not
        // touch the snapshot; the context lines place each hunk.
        var lines = output.ReplaceLineEndings("\n").Split('\n')
            .Where(line => !line.StartsWith("index ", StringComparison.Ordinal))
            .Select(line => line.StartsWith("@@ ", StringComparison.Ordinal) ? HunkHeader().Replace(line, "@@") : line);
        return string.Join('\n', lines).TrimEnd('\n') is { Length: > 0 } diff ? diff + "\n" : "";
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^@@ -\d+(,\d+)? \+\d+(,\d+)? @@")]
    private static partial System.Text.RegularExpressions.Regex HunkHeader();
}

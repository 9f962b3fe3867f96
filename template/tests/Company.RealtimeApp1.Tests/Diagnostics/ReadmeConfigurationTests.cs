using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Company.RealtimeApp1.Diagnostics;
using Company.RealtimeApp1.WebSockets;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// The README's configuration table (the rows <c>| `Key` | default | meaning |</c> under <c>## Configuration</c>)
/// lists every setting the app reads, with the default the code has, and nothing else. The settings are found
/// by reflection: every bindable property of every options type (a type with a <c>SectionName</c> constant), every
/// connection string (a <c>ConnectionStringName</c> constant), the OpenTelemetry endpoint, and every key of
/// <c>appsettings.json</c> but <c>Logging</c>.
/// </summary>
public sealed partial class ReadmeConfigurationTests
{
    /// <summary>Bindable properties that are not settings, and why.</summary>
    private static readonly Dictionary<string, string> NotSettings = new()
    {
        ["WebSockets:SessionCookie"] = "Program.cs sets it to the cookie POST /session writes, after the section is bound",
    };

    [Fact]
    public void EverySettingIsInTheReadmeConfigurationTable()
    {
        var documented = ReadmeTable();

        var missing = Settings().Keys.Where(key => !documented.ContainsKey(key)).Order().ToList();

        Assert.True(missing.Count == 0, $"Not in the README's configuration table: {string.Join(", ", missing)}");
    }

    [Fact]
    public void TheReadmeConfigurationTableNamesOnlySettingsTheAppReads()
    {
        var settings = Settings();

        var unknown = ReadmeTable().Keys.Where(key => !settings.ContainsKey(key)).Order().ToList();

        Assert.True(unknown.Count == 0, $"In the README's configuration table but read by nothing: {string.Join(", ", unknown)}");
    }

    [Fact]
    public void TheReadmeStatesTheCodesDefaults()
    {
        var documented = ReadmeTable();

        var wrong = Settings()
            .Where(setting => setting.Value is { } codeDefault && documented.TryGetValue(setting.Key, out var stated) && stated != codeDefault)
            .Select(setting => $"{setting.Key}: the README says {documented[setting.Key] ?? "nothing"}, the code {setting.Value}")
            .ToList();

        Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));
    }

    [Fact]
    public void AppsettingsJsonHoldsTheCodesDefaults()
    {
        var defaults = Settings();

        var wrong = AppsettingsKeys()
            .Where(entry => defaults.TryGetValue(entry.Key, out var codeDefault) && codeDefault is not null && codeDefault != entry.Value)
            .Select(entry => $"{entry.Key}: appsettings.json has {entry.Value}, the code {defaults[entry.Key]}")
            .ToList();

        Assert.True(wrong.Count == 0, string.Join(Environment.NewLine, wrong));
    }

    /// <summary>Every setting the app reads, with the code's default as the README writes it (null: no default in code).</summary>
    private static Dictionary<string, string?> Settings()
    {
        var settings = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var type in new[] { typeof(Program).Assembly, typeof(RealtimeOptions).Assembly }.SelectMany(assembly => assembly.GetTypes()))
        {
            if (Constant(type, "SectionName") is { } section && !type.IsAbstract && type.GetConstructor(Type.EmptyTypes) is not null)
            {
                var defaults = Activator.CreateInstance(type);
                foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
                {
                    var key = $"{section}:{property.Name}";
                    if (property.SetMethod is { IsPublic: true } && property.GetIndexParameters().Length == 0 && !NotSettings.ContainsKey(key))
                    {
                        settings.Add(key, Format(property.GetValue(defaults)));
                    }
                }
            }

            if (Constant(type, "ConnectionStringName") is { } connectionString)
            {
                settings.TryAdd($"ConnectionStrings:{connectionString}", null);
            }
        }

        settings.TryAdd(Telemetry.EndpointSetting, null);
        settings.TryAdd(Telemetry.ServiceNameSetting, null);
        foreach (var (key, _) in AppsettingsKeys())
        {
            settings.TryAdd(key, null);
        }

        return settings;
    }

    private static string? Constant(Type type, string name) =>
        type.GetField(name, BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field ? field.GetRawConstantValue() as string : null;

    /// <summary>A default as the README writes it between backticks.</summary>
    private static string Format(object? value) => value switch
    {
        null => "null",
        "" => "\"\"",
        string text => text,
        bool flag => flag ? "true" : "false",
        TimeSpan span => span.ToString("c", CultureInfo.InvariantCulture),
        Enum member => member.ToString(),
        IEnumerable items => JsonSerializer.Serialize(items),
        IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>Key → the first backticked text of its default cell, for each row of the README's configuration table.</summary>
    private static Dictionary<string, string?> ReadmeTable()
    {
        var readme = Solution.ReadReadme();
        var section = ConfigurationSection().Match(readme);
        Assert.True(section.Success, "The README has no '## Configuration' section.");

        var rows = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (Match row in TableRow().Matches(section.Value))
        {
            var stated = FirstCode().Match(row.Groups["default"].Value);
            Assert.True(rows.TryAdd(row.Groups["key"].Value, stated.Success ? stated.Groups[1].Value : null), $"Twice in the table: {row.Groups["key"].Value}");
        }

        Assert.NotEmpty(rows);
        return rows;
    }

    /// <summary>The leaf keys of appsettings.json (arrays as one key), Logging aside.</summary>
    private static List<KeyValuePair<string, string>> AppsettingsKeys()
    {
        using var document = JsonDocument.Parse(
            File.ReadAllText(Path.Combine(Solution.Directory, "src", typeof(Program).Assembly.GetName().Name!, "appsettings.json")),
            new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip }); // in place, it has the template's conditionals
        var keys = new List<KeyValuePair<string, string>>();
        Walk(document.RootElement, "");
        return keys;

        void Walk(JsonElement element, string key)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                foreach (var member in element.EnumerateObject().Where(member => key.Length > 0 || member.Name != "Logging"))
                {
                    Walk(member.Value, key.Length == 0 ? member.Name : $"{key}:{member.Name}");
                }
            }
            else
            {
                keys.Add(new(key, element.ValueKind == JsonValueKind.String ? Format(element.GetString()) : element.GetRawText()));
            }
        }
    }

    [GeneratedRegex(@"^## Configuration\s*$.*?(?=^## |\z)", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex ConfigurationSection();

    [GeneratedRegex(@"^\| `(?<key>[A-Za-z_][A-Za-z0-9_:]*)` \|(?<default>[^|]*)\|", RegexOptions.Multiline)]
    private static partial Regex TableRow();

    [GeneratedRegex("`([^`]*)`")]
    private static partial Regex FirstCode();
}

using System.Diagnostics;
using System.Net.Http.Json;

namespace Company.RealtimeApp1.Tests;

/// <summary>The <c>users</c> and <c>orgs</c> commands, run as a real process against a database file.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("wsauth-cli-").FullName;

    private string ConnectionString => $"Data Source={Path.Combine(_directory, "app.db")};Pooling=False";

    [Fact]
    public async Task CommandsCreateAUserAnOrganizationAndAMembership()
    {
        var addUser = await RunAsync("correct horse battery staple\n", "users", "add", "dave", "--role", "admin");
        var addOrg = await RunAsync("", "orgs", "add", "initech", "--name", "Initech");
        var addMember = await RunAsync("", "orgs", "add-member", "initech", "dave", "--role", "admin");

        Assert.Equal((0, "Created user 'dave'."), (addUser.ExitCode, addUser.Output));
        Assert.Equal(0, addOrg.ExitCode);
        Assert.StartsWith("Created organization 'initech' (", addOrg.Output);
        Assert.Equal((0, "'dave' is now admin of 'initech'."), (addMember.ExitCode, addMember.Output));

        using var app = RealtimeApplication.With(new() { ["ConnectionStrings:Default"] = ConnectionString });
        var tokens = await app.SignInAsync("dave", "correct horse battery staple");
        var me = await app.CreateClient(tokens.AccessToken).GetFromJsonAsync<Me>("/me");
        Assert.Equal(["admin"], me!.Roles);
        var organization = Assert.Single(me.Organizations);
        Assert.Equal(("initech", "Initech", "admin"), (organization.Slug, organization.Name, organization.Role));
    }

    [Fact]
    public async Task APasswordBcryptWouldTruncateIsRefused()
    {
        var result = await RunAsync(new string('x', 73) + "\n", "users", "add", "erin");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("Passwords must be at most 72 UTF-8 bytes long.", result.Error);
    }

    [Fact]
    public async Task AddingAMemberToAnUnknownOrganizationFails()
    {
        var result = await RunAsync("", "orgs", "add-member", "nowhere", "dave");

        Assert.Equal((1, "There is no organization 'nowhere'."), (result.ExitCode, result.Error));
    }

    [Fact]
    public async Task AnIncompleteCommandPrintsUsage()
    {
        var result = await RunAsync("", "users", "add");

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("Usage:", result.Error);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private async Task<(int ExitCode, string Output, string Error)> RunAsync(string input, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Company.RealtimeApp1.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["ConnectionStrings__Default"] = ConnectionString;
        start.Environment["PasswordHashing__WorkFactor"] = "4";
        start.Environment["Logging__LogLevel__Default"] = "Warning";

        using var process = Process.Start(start)!;
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, (await output).Trim(), (await error).Trim());
    }
}

using System.Net.Http.Json;

namespace Company.RealtimeApp1.Tests;

/// <summary>The <c>users</c> and <c>orgs</c> commands, run as a real process against a database the app shares.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly TestDatabase _database = TestDatabase.Shared();

    private string ConnectionString => _database.ConnectionString;

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

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("-?")]
    public async Task HelpListsTheCommandsAndExitsWithoutStartingTheServerOrTouchingTheDatabase(string help)
    {
        // A database nothing can open and an address to listen on: a server would fail on the first, or never exit.
        var result = await AppProcess.RunAsync(
            TestDatabase.Unreachable("x"), "", new Dictionary<string, string> { ["ASPNETCORE_URLS"] = "http://127.0.0.1:0" }, help);

        var lines = result.Output.ReplaceLineEndings("\n").Split('\n');
        Assert.Equal((0, ""), (result.ExitCode, result.Error));
        Assert.Contains("  users  Administers users.", lines);
        Assert.Contains("  orgs   Administers organizations and their members.", lines);
    }

    [Theory]
    [InlineData("users", "add <NAME>", "Creates a user; reads the password from standard input.")]
    [InlineData("users", "list", "Lists the users with their roles and state, one a line.")]
    [InlineData("orgs", "add-member <SLUG> <NAME>", "Makes a user a member of an organization, or changes their role there.")]
    [InlineData("orgs", "list", "Lists the organizations with their members, one organization a line.")]
    public async Task HelpOnACommandListsItsSubcommands(string command, string usage, string description)
    {
        var result = await AppProcess.RunAsync(TestDatabase.Unreachable("x"), "", environment: null, command, "--help");

        Assert.Equal((0, ""), (result.ExitCode, result.Error));
        Assert.Contains(
            result.Output.ReplaceLineEndings("\n").Split('\n'),
            line => line.StartsWith($"  {usage} ", StringComparison.Ordinal) && line.EndsWith($" {description}", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("frobnicate", "Unrecognized command 'frobnicate'. See --help.")]
    [InlineData("users frobnicate", "Unrecognized command 'frobnicate'. See --help.")]
    [InlineData("users list everyone", "Too many arguments for 'users list'. See --help.")]
    [InlineData("users add bob hunter2", "Too many arguments for 'users add'. See --help.")]
    [InlineData("users", "Required command was not provided. See --help.")]
    [InlineData("users add", "Required argument missing for command: 'add'. See --help.")]
    [InlineData("orgs add-member initech", "Required argument missing for command: 'add-member'. See --help.")]
    public async Task AnUnknownOrIncompleteCommandFailsWithOneLineBeforeTouchingTheDatabase(string command, string message)
    {
        var result = await AppProcess.RunAsync(TestDatabase.Unreachable("x"), "", environment: null, command.Split(' '));

        Assert.Equal((1, "", message), result);
    }

    [Fact]
    public async Task UsersListPrintsTheUsersAndNothingElseWhateverIsLogged()
    {
        await RunAsync(OldPassword + "\n", "users", "add", "alice", "--role", "admin");
        await RunAsync(OldPassword + "\n", "users", "add", "bob");

        // Every category at Trace, EF Core's commands included: none of it on standard output, nor on standard error.
        var list = await RunAsync("", EveryLogLevel, "users", "list");

        Assert.Equal((0, "alice [admin]\nbob", ""), (list.ExitCode, list.Output.ReplaceLineEndings("\n"), list.Error));
    }

    [Fact]
    public async Task AFailingCommandPrintsOneLineOnStandardErrorWhateverIsLogged()
    {
        var result = await RunAsync("", EveryLogLevel, "users", "disable", "nobody");

        Assert.Equal((1, "", "There is no user 'nobody'."), result);
    }

    [Fact]
    public async Task AnInvalidSettingACommandUsesFailsItWithOneLineNamingTheSection()
    {
        var result = await RunAsync(OldPassword + "\n", new Dictionary<string, string> { ["PasswordHashing__WorkFactor"] = "99" }, "users", "add", "dave");

        Assert.Equal(
            (1, "", "crit: Company.RealtimeApp1.Configuration[1] The settings under 'PasswordHashing' are invalid, so the app stops: "
                + "WorkFactor: The field PasswordHashingOptions.WorkFactor must be between 4 and 31."),
            result);
    }

    [Fact]
    public async Task UsersPasswdChangesThePasswordRevokesEverySignInAndClosesTheUsersSockets()
    {
        using var app = StartApp();
        await app.CreateUserAsync("dave", OldPassword);
        var tokens = await app.SignInAsync("dave", OldPassword);
        await using var socket = await app.ConnectAsync(EchoConsumer.Path, tokens.AccessToken);
        await socket.ReceiveJsonAsync("welcome");

        var result = await RunAsync(NewPassword + "\n", "users", "passwd", "dave");

        Assert.Equal((0, "Changed the password of 'dave'."), (result.ExitCode, result.Output));
        Assert.Equal((4001, "credentials changed"), await socket.ReceiveCloseAsync());
        await app.AssertRefreshRefusedAsync(tokens.RefreshToken);
        await app.AssertSignInRefusedAsync("dave", OldPassword);
        await app.SignInAsync("dave", NewPassword);
    }

    [Fact]
    public async Task UsersDisableEndsEverySessionAndUsersEnableLetsTheUserSignInAgain()
    {
        using var app = StartApp();
        await app.CreateUserAsync("dave", OldPassword);
        var tokens = await app.SignInAsync("dave", OldPassword);
        await using var socket = await app.ConnectAsync(EchoConsumer.Path, tokens.AccessToken);
        await socket.ReceiveJsonAsync("welcome");

        var disabled = await RunAsync("", "users", "disable", "dave");

        Assert.Equal((0, "Disabled 'dave'."), (disabled.ExitCode, disabled.Output));
        Assert.Equal((4001, "credentials changed"), await socket.ReceiveCloseAsync());
        await app.AssertSignInRefusedAsync("dave", OldPassword);

        var enabled = await RunAsync("", "users", "enable", "dave");

        Assert.Equal((0, "Enabled 'dave'."), (enabled.ExitCode, enabled.Output));
        await app.SignInAsync("dave", OldPassword);
        // Disabling revoked the sign-ins it ended; enabling does not bring them back.
        await app.AssertRefreshRefusedAsync(tokens.RefreshToken);
    }

    [Fact]
    public async Task UsersDeleteClosesTheUsersSocketsAndTheUserIsGone()
    {
        using var app = StartApp();
        await app.CreateUserAsync("dave", OldPassword);
        var tokens = await app.SignInAsync("dave", OldPassword);
        await using var socket = await app.ConnectAsync(EchoConsumer.Path, tokens.AccessToken);
        await socket.ReceiveJsonAsync("welcome");

        var deleted = await RunAsync("", "users", "delete", "dave");

        Assert.Equal((0, "Deleted 'dave'."), (deleted.ExitCode, deleted.Output));
        Assert.Equal((4001, "credentials changed"), await socket.ReceiveCloseAsync());
        await app.AssertSignInRefusedAsync("dave", OldPassword);
        await app.AssertRefreshRefusedAsync(tokens.RefreshToken);
    }

    [Fact]
    public async Task UsersListShowsEveryUserWithTheirRolesAndState()
    {
        await RunAsync(OldPassword + "\n", "users", "add", "alice", "--role", "admin");
        await RunAsync(OldPassword + "\n", "users", "add", "bob");
        await RunAsync("", "users", "disable", "bob");

        var list = await RunAsync("", "users", "list");

        Assert.Equal((0, "alice [admin]\nbob (disabled)"), (list.ExitCode, list.Output.ReplaceLineEndings("\n")));
    }

    [Fact]
    public async Task OrgsRemoveMemberClosesTheMembersSocketsOnThatOrganizationWith4003()
    {
        using var app = StartApp();
        await app.CreateUserAsync("dave", OldPassword);
        await RunAsync("", "orgs", "add", "initech");
        await RunAsync("", "orgs", "add-member", "initech", "dave");
        var tokens = await app.SignInAsync("dave", OldPassword);
        var organization = (await app.CreateClient(tokens.AccessToken).GetFromJsonAsync<Me>("/me"))!.Organizations.Single();
        await using var events = await app.ConnectAsync(PresenceConsumer.PathFor(organization.Id), tokens.AccessToken);
        await using var userSocket = await app.ConnectAsync(EchoConsumer.Path, tokens.AccessToken);
        await events.ReceiveJsonAsync("welcome");
        await userSocket.ReceiveJsonAsync("welcome");

        var removed = await RunAsync("", "orgs", "remove-member", "initech", "dave");

        Assert.Equal((0, "Removed 'dave' from 'initech'."), (removed.ExitCode, removed.Output));
        Assert.Equal((4003, "membership removed"), await events.ReceiveCloseAsync());
        await userSocket.SendJsonAsync(new { type = "ping" });
        await userSocket.ReceiveJsonAsync("pong");
    }

    [Fact]
    public async Task OrgsListShowsEveryOrganizationWithItsMembers()
    {
        await RunAsync(OldPassword + "\n", "users", "add", "alice");
        await RunAsync(OldPassword + "\n", "users", "add", "bob");
        await RunAsync("", "orgs", "add", "initech", "--name", "Initech");
        await RunAsync("", "orgs", "add", "umbrella");
        await RunAsync("", "orgs", "add-member", "initech", "alice", "--role", "admin");
        await RunAsync("", "orgs", "add-member", "initech", "bob");

        var list = await RunAsync("", "orgs", "list");

        Assert.Equal(
            (0, "initech (Initech): alice admin, bob member\numbrella (umbrella): no members"),
            (list.ExitCode, list.Output.ReplaceLineEndings("\n")));
    }

    [Theory]
    [InlineData("users disable nobody", "There is no user 'nobody'.")]
    [InlineData("users enable nobody", "There is no user 'nobody'.")]
    [InlineData("users delete nobody", "There is no user 'nobody'.")]
    [InlineData("orgs remove-member initech nobody", "'nobody' is not a member of 'initech'.")]
    public async Task ACommandOnSomeoneWhoDoesNotExistFailsWithOneLine(string command, string message)
    {
        var result = await RunAsync("", command.Split(' '));

        Assert.Equal((1, "", message), result);
    }

    [Fact]
    public async Task UsersPasswdWithoutAPasswordFails()
    {
        await RunAsync(OldPassword + "\n", "users", "add", "dave");

        var result = await RunAsync("", "users", "passwd", "dave");

        Assert.Equal((1, "", "No password was given on standard input."), result);
    }

    public void Dispose() => _database.Dispose();

    private const string OldPassword = "correct horse battery staple";
    private const string NewPassword = "a brand new passphrase";

    private static readonly Dictionary<string, string> EveryLogLevel = new()
    {
        ["Logging__LogLevel__Default"] = "Trace",
        ["Logging__LogLevel__Microsoft.EntityFrameworkCore.Database.Command"] = "Trace",
    };

    /// <summary>The server, on the database the commands change; it re-checks its sockets every second.</summary>
    private RealtimeApplication StartApp() => RealtimeApplication.With(new()
    {
        ["ConnectionStrings:Default"] = ConnectionString,
        ["WebSockets:RecheckInterval"] = "00:00:01",
    });

    private Task<(int ExitCode, string Output, string Error)> RunAsync(string input, params string[] args) =>
        AppProcess.RunAsync(ConnectionString, input, environment: null, args);

    private Task<(int ExitCode, string Output, string Error)> RunAsync(string input, IReadOnlyDictionary<string, string> environment, params string[] args) =>
        AppProcess.RunAsync(ConnectionString, input, environment, args);
}

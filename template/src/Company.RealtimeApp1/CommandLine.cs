using System.Text;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.Users;
using Company.RealtimeApp1.WebSockets;

namespace Company.RealtimeApp1;

/// <summary>
/// Administrative commands for environments without the Development seed (<c>dotnet run -- users list</c>;
/// the usage text below lists them all). Passwords come from standard input, never the command line.
/// </summary>
/// <remarks>
/// A command is another process than the server: what it withdraws (a password, a user, a membership)
/// takes effect on refresh tokens at once, and on open sockets at the server's next periodic re-check
/// (<c>WebSockets:RecheckInterval</c>), or at once where the message bus reaches the server.
/// </remarks>
internal static class CommandLine
{
    public static bool IsCommand(string[] args) => args is ["users" or "orgs", ..];

    /// <summary>Runs the command against the configured database and returns the process exit code.</summary>
    public static async Task<int> RunCommandAsync(this WebApplication app, string[] args)
    {
        if (!await app.InitializeDatabaseAsync())
        {
            // The reason is logged; disposing the app writes the log out before the process exits.
            await app.DisposeAsync();
            return 1;
        }

        await using var scope = app.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;

        var users = services.GetRequiredService<UserAdministration>();
        return args switch
        {
            ["users", "add", var userName, .. var rest] when TryReadOptions(rest, out var options) =>
                await AddUserAsync(users, userName, options.GetValueOrDefault("--role")),
            ["users", "passwd", var userName] => await SetPasswordAsync(users, userName),
            ["users", "disable", var userName] =>
                Report(await users.SetDisabledAsync(userName, disabled: true), $"Disabled '{userName}'."),
            ["users", "enable", var userName] =>
                Report(await users.SetDisabledAsync(userName, disabled: false), $"Enabled '{userName}'."),
            ["users", "delete", var userName] => Report(await users.DeleteUserAsync(userName), $"Deleted '{userName}'."),
            ["users", "list"] => Succeed(string.Join(Environment.NewLine, (await users.ListUsersAsync()).Select(Describe))),
            ["orgs", "add", var slug, .. var rest] when TryReadOptions(rest, out var options) =>
                Report(await services.GetRequiredService<OrganizationAdministration>()
                    .CreateOrganizationAsync(slug, options.GetValueOrDefault("--name")), o => $"Created organization '{o.Slug}' ({o.Id})."),
            ["orgs", "add-member", var slug, var userName, .. var rest] when TryReadOptions(rest, out var options) =>
                await AddMemberAsync(services.GetRequiredService<OrganizationAdministration>(), slug, userName, options.GetValueOrDefault("--role")),
            ["orgs", "remove-member", var slug, var userName] =>
                await RemoveMemberAsync(services, slug, userName),
            ["orgs", "list"] => Succeed(string.Join(Environment.NewLine,
                (await services.GetRequiredService<OrganizationAdministration>().ListAsync()).Select(Describe))),
            _ => Usage(),
        };
    }

    private static async Task<int> AddUserAsync(UserAdministration users, string userName, string? role)
    {
        var password = ReadPassword();
        if (string.IsNullOrEmpty(password))
        {
            return Fail("No password was given on standard input.");
        }

        return Report(await users.CreateUserAsync(userName, password, role is null ? [] : [role]), $"Created user '{userName}'.");
    }

    private static async Task<int> SetPasswordAsync(UserAdministration users, string userName)
    {
        var password = ReadPassword();
        return string.IsNullOrEmpty(password)
            ? Fail("No password was given on standard input.")
            : Report(await users.SetPasswordAsync(userName, password), $"Changed the password of '{userName}'.");
    }

    private static async Task<int> RemoveMemberAsync(IServiceProvider services, string slug, string userName)
    {
        // The revocation reaches the server's sockets when the bus does (Redis); otherwise its periodic re-check closes them.
        var removed = await services.GetRequiredService<OrganizationAdministration>().RemoveMemberAsync(slug, userName);
        return Report(removed, _ => $"Removed '{userName}' from '{slug}'.");
    }

    private static string Describe(UserSummary user) =>
        user.UserName
        + (user.Roles.Count > 0 ? $" [{string.Join(", ", user.Roles)}]" : "")
        + (user.IsDisabled ? " (disabled)" : "")
        + (user.IsLockedOut ? " (locked out)" : "");

    private static string Describe(OrganizationSummary organization) =>
        $"{organization.Slug} ({organization.Name}): "
        + (organization.Members.Count > 0
            ? string.Join(", ", organization.Members.Select(m => $"{m.UserName} {m.Role.ToApiName()}"))
            : "no members");

    private static async Task<int> AddMemberAsync(OrganizationAdministration organizations, string slug, string userName, string? roleName)
    {
        if (!OrganizationRoleNames.TryParse(roleName, out var role))
        {
            return Fail($"--role must be '{OrganizationRoleNames.Member}' or '{OrganizationRoleNames.Admin}'.");
        }

        return Report(await organizations.SetMembershipAsync(slug, userName, role),
            m => $"'{userName}' is now {m.Role.ToApiName()} of '{slug}'.");
    }

    /// <summary>Reads one line; on a terminal, without echoing it.</summary>
    private static string? ReadPassword()
    {
        if (Console.IsInputRedirected)
        {
            return Console.In.ReadLine();
        }

        Console.Error.Write("Password: ");
        var password = new StringBuilder();
        for (var key = Console.ReadKey(intercept: true); key.Key != ConsoleKey.Enter; key = Console.ReadKey(intercept: true))
        {
            if (key.Key == ConsoleKey.Backspace)
            {
                password.Length = Math.Max(0, password.Length - 1);
            }
            else if (!char.IsControl(key.KeyChar))
            {
                password.Append(key.KeyChar);
            }
        }

        Console.Error.WriteLine();
        return password.ToString();
    }

    private static bool TryReadOptions(string[] args, out Dictionary<string, string> options)
    {
        options = [];
        for (var i = 0; i < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                return false;
            }

            options[args[i]] = args[i + 1];
        }

        return true;
    }

    private static int Report<T>(AdministrationResult<T> result, Func<T, string> success) =>
        result.Error is { } error ? Fail(error) : Succeed(success(result.Value!));

    private static int Report(Microsoft.AspNetCore.Identity.IdentityResult result, string success) =>
        result.Succeeded ? Succeed(success) : Fail(string.Join(" ", result.Errors.Select(e => e.Description)));

    private static int Succeed(string message)
    {
        Console.Out.WriteLine(message);
        return 0;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 1;
    }

    private static int Usage() => Fail("""
        Usage:
          dotnet run -- users add NAME [--role ROLE]          (reads the password from standard input)
          dotnet run -- users passwd NAME                     (reads the new password from standard input)
          dotnet run -- users disable NAME
          dotnet run -- users enable NAME
          dotnet run -- users delete NAME
          dotnet run -- users list
          dotnet run -- orgs add SLUG [--name NAME]
          dotnet run -- orgs add-member SLUG NAME [--role member|admin]
          dotnet run -- orgs remove-member SLUG NAME
          dotnet run -- orgs list
        """);
}

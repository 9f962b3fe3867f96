using System.Text;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.Users;

namespace Company.RealtimeApp1;

/// <summary>
/// Administrative commands for environments without the Development seed:
/// <c>dotnet run -- users add NAME [--role ROLE]</c> (password from standard input),
/// <c>dotnet run -- orgs add SLUG [--name NAME]</c>, <c>dotnet run -- orgs add-member SLUG NAME [--role admin]</c>.
/// </summary>
internal static class CommandLine
{
    public static bool IsCommand(string[] args) => args is ["users" or "orgs", ..];

    /// <summary>Runs the command against the configured database and returns the process exit code.</summary>
    public static async Task<int> RunCommandAsync(this WebApplication app, string[] args)
    {
        await app.InitializeDatabaseAsync();
        await using var scope = app.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;

        return args switch
        {
            ["users", "add", var userName, .. var rest] when TryReadOptions(rest, out var options) =>
                await AddUserAsync(services.GetRequiredService<UserAdministration>(), userName, options.GetValueOrDefault("--role")),
            ["orgs", "add", var slug, .. var rest] when TryReadOptions(rest, out var options) =>
                Report(await services.GetRequiredService<OrganizationAdministration>()
                    .CreateOrganizationAsync(slug, options.GetValueOrDefault("--name")), o => $"Created organization '{o.Slug}' ({o.Id})."),
            ["orgs", "add-member", var slug, var userName, .. var rest] when TryReadOptions(rest, out var options) =>
                await AddMemberAsync(services.GetRequiredService<OrganizationAdministration>(), slug, userName, options.GetValueOrDefault("--role")),
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

        var result = await users.CreateUserAsync(userName, password, role is null ? [] : [role]);
        return result.Succeeded
            ? Succeed($"Created user '{userName}'.")
            : Fail(string.Join(" ", result.Errors.Select(e => e.Description)));
    }

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
          dotnet run -- orgs add SLUG [--name NAME]
          dotnet run -- orgs add-member SLUG NAME [--role member|admin]
        """);
}

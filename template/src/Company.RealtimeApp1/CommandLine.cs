using System.CommandLine;
using System.CommandLine.Invocation;
using System.Data.Common;
using System.Text;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Hosting;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.Users;
using Company.RealtimeApp1.WebSockets;
using Microsoft.Extensions.Logging.Console;

namespace Company.RealtimeApp1;

/// <summary>
/// Administrative commands for environments without the Development seed (<c>dotnet run -- users list</c>;
/// <c>dotnet run -- --help</c> lists them all), parsed by System.CommandLine. Passwords come from standard input,
/// never the command line. Standard output carries the command's own output and nothing else; logs go to
/// standard error, and a failure is one line there and exit code 1.
/// </summary>
/// <remarks>
/// A command is another process than the server: what it withdraws (a password, a user, a membership)
/// takes effect on refresh tokens at once, and on open sockets at the server's next periodic re-check
/// (<c>WebSockets:RecheckInterval</c>), or at once where the message bus reaches the server.
/// </remarks>
internal static class CommandLine
{
    /// <summary>
    /// A first argument that is a word (<c>users</c>, <c>orgs</c>, or a mistyped one), or asks for help or the version,
    /// is a command; anything else (no argument, ASP.NET Core's <c>--urls</c>, <c>--environment</c>, <c>key=value</c>)
    /// is the server's, read by the host as it always is, and never meets the command parser.
    /// </summary>
    public static bool IsCommand(string[] args) => args is [var first, ..]
        && (first is "--help" or "-h" or "-?" or "--version" || !first.StartsWith('-') && !first.StartsWith('/') && !first.Contains('='));

    /// <summary>
    /// Parses <paramref name="args"/> and runs the command, building the app only when a command needs it (never for
    /// <c>--help</c>): its services without the server, neither Kestrel nor a hosted service started. Returns the exit code.
    /// </summary>
    public static async Task<int> RunCommandAsync(this WebApplicationBuilder builder, string[] args)
    {
        QuietLogging(builder);
        var root = new RootCommand("Without a command, runs the server (ASP.NET Core's own arguments, such as --urls, apply).")
        {
            UsersCommand(builder),
            OrganizationsCommand(builder),
        };

        // No response files: a name may begin with '@'.
        var parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Action is ParseErrorAction)
        {
            // The word it did not know says more than the command it then missed. A word past a command's own
            // arguments is not quoted: it may be a password typed on the command line (users add bob hunter2).
            var command = parsed.CommandResult.Command;
            var error = parsed.UnmatchedTokens is [var unknown, ..]
                ? command.Subcommands.Count > 0 ? $"Unrecognized command '{unknown}'." : $"Too many arguments for '{CommandPath(parsed.CommandResult)}'."
                : parsed.Errors[0].Message;
            return Fail($"{error} See --help.");
        }

        return await parsed.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
    }

    private static string CommandPath(System.CommandLine.Parsing.CommandResult result) =>
        result.Parent is System.CommandLine.Parsing.CommandResult parent && parent.Parent is not null
            ? $"{CommandPath(parent)} {result.Command.Name}"
            : result.Command.Name;

    /// <summary>Every log record on standard error, one line each; Warning and above; EF Core's own records not at all.</summary>
    private static void QuietLogging(WebApplicationBuilder builder)
    {
        builder.Services.Configure<ConsoleLoggerOptions>(console =>
        {
            console.LogToStandardErrorThreshold = LogLevel.Trace;
            // Named, or the console logger would take the formatter's options from its own obsolete ones.
            console.FormatterName ??= ConsoleFormatterNames.Simple;
        });
        builder.Services.Configure<SimpleConsoleFormatterOptions>(simple => simple.SingleLine = true);
        // Rules for the console provider win over the Logging:LogLevel settings. A command reports a database that
        // fails it in its own line, which EF Core's records of the same failure would only make longer.
        builder.Logging.AddFilter<ConsoleLoggerProvider>(category: null, LogLevel.Warning);
        builder.Logging.AddFilter<ConsoleLoggerProvider>("Microsoft.EntityFrameworkCore", LogLevel.None);
#if (UsePostgres)
        builder.Logging.AddFilter<ConsoleLoggerProvider>("Npgsql", LogLevel.None);
#endif
    }

    private static Command UsersCommand(WebApplicationBuilder builder)
    {
        var userName = NameArgument();
        var role = new Option<string>("--role") { Description = "A role to give the user (admin, say).", HelpName = "ROLE" };
        var add = new Command("add", "Creates a user; reads the password from standard input.") { userName, role };
        add.SetAction(parsed => RunAsync(builder, services =>
            AddUserAsync(services.GetRequiredService<UserAdministration>(), parsed.GetRequiredValue(userName), parsed.GetValue(role))));

        var list = new Command("list", "Lists the users with their roles and state, one a line.");
        list.SetAction(_ => RunAsync(builder, async services =>
            Succeed(string.Join(Environment.NewLine, (await services.GetRequiredService<UserAdministration>().ListUsersAsync()).Select(Describe)))));

        return new Command("users", "Administers users.")
        {
            add,
            OnUser("passwd", "Sets a user's password, read from standard input; ends every sign-in of theirs.", SetPasswordAsync),
            OnUser("disable", "Disables a user; ends every sign-in of theirs.", async (users, name) =>
                Report(await users.SetDisabledAsync(name, disabled: true), $"Disabled '{name}'.")),
            OnUser("enable", "Enables a disabled user.", async (users, name) =>
                Report(await users.SetDisabledAsync(name, disabled: false), $"Enabled '{name}'.")),
            OnUser("delete", "Deletes a user; ends every sign-in of theirs.", async (users, name) =>
                Report(await users.DeleteUserAsync(name), $"Deleted '{name}'.")),
            list,
        };

        Command OnUser(string verb, string description, Func<UserAdministration, string, Task<int>> change)
        {
            var name = NameArgument();
            var command = new Command(verb, description) { name };
            command.SetAction(parsed => RunAsync(builder, services =>
                change(services.GetRequiredService<UserAdministration>(), parsed.GetRequiredValue(name))));
            return command;
        }
    }

    private static Command OrganizationsCommand(WebApplicationBuilder builder)
    {
        var slug = SlugArgument();
        var displayName = new Option<string>("--name") { Description = "Its display name (the slug when not given).", HelpName = "NAME" };
        var add = new Command("add", "Creates an organization.") { slug, displayName };
        add.SetAction(parsed => RunAsync(builder, async services => Report(
            await services.GetRequiredService<OrganizationAdministration>().CreateOrganizationAsync(parsed.GetRequiredValue(slug), parsed.GetValue(displayName)),
            organization => $"Created organization '{organization.Slug}' ({organization.Id}).")));

        var memberSlug = SlugArgument();
        var memberName = NameArgument();
        var role = new Option<string>("--role") { Description = $"'{OrganizationRoleNames.Member}' (the default) or '{OrganizationRoleNames.Admin}'.", HelpName = "ROLE" };
        var addMember = new Command("add-member", "Makes a user a member of an organization, or changes their role there.") { memberSlug, memberName, role };
        addMember.SetAction(parsed => RunAsync(builder, services => AddMemberAsync(
            services.GetRequiredService<OrganizationAdministration>(), parsed.GetRequiredValue(memberSlug), parsed.GetRequiredValue(memberName), parsed.GetValue(role))));

        var removedSlug = SlugArgument();
        var removedName = NameArgument();
        var removeMember = new Command("remove-member", "Removes a user from an organization; closes their sockets on it.") { removedSlug, removedName };
        removeMember.SetAction(parsed => RunAsync(builder, services =>
            RemoveMemberAsync(services, parsed.GetRequiredValue(removedSlug), parsed.GetRequiredValue(removedName))));

        var list = new Command("list", "Lists the organizations with their members, one organization a line.");
        list.SetAction(_ => RunAsync(builder, async services => Succeed(string.Join(Environment.NewLine,
            (await services.GetRequiredService<OrganizationAdministration>().ListAsync()).Select(Describe)))));

        return new Command("orgs", "Administers organizations and their members.") { add, addMember, removeMember, list };
    }

    private static Argument<string> NameArgument() => new("NAME") { Description = "The user's name." };

    private static Argument<string> SlugArgument() => new("SLUG") { Description = "The organization's slug." };

    /// <summary>
    /// Builds the app, brings its database up to date and runs <paramref name="command"/> in a scope of its services.
    /// A setting the command needs that is invalid, or a database it cannot use, fails it with one logged line.
    /// </summary>
    private static async Task<int> RunAsync(WebApplicationBuilder builder, Func<IServiceProvider, Task<int>> command)
    {
        // Disposing the app writes its log out before the process exits.
        await using var app = builder.Build();
        try
        {
            if (!await app.PrepareDatabaseForCommandAsync())
            {
                return 1; // the reason is logged
            }

            await using var scope = app.Services.CreateAsyncScope();
            return await command(scope.ServiceProvider);
        }
        catch (Exception invalid) when (app.ReportInvalidSettings(invalid))
        {
            return 1;
        }
        catch (Exception exception) when ((exception as DbException ?? exception.InnerException as DbException) is { } failure)
        {
            // As at start-up: the provider's message, which repeats no password, without a stack trace.
            return Fail($"The database failed the command: {failure.Message}");
        }
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
}

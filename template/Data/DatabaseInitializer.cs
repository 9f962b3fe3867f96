using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.Users;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Company.RealtimeApp1.Data;

/// <summary>Bound from the <c>Seed</c> section; used in Development only.</summary>
public sealed class SeedOptions
{
    public const string SectionName = "Seed";

    public List<SeedUser> Users { get; set; } = [];

    public List<SeedOrganization> Organizations { get; set; } = [];
}

public sealed class SeedUser
{
    public string UserName { get; set; } = "";

    public string Password { get; set; } = "";

    public List<string> Roles { get; set; } = [];
}

public sealed class SeedOrganization
{
    public string Slug { get; set; } = "";

    public string Name { get; set; } = "";

    public List<SeedMember> Members { get; set; } = [];
}

public sealed class SeedMember
{
    public string UserName { get; set; } = "";

    public string Role { get; set; } = OrganizationRoleNames.Member;
}

internal static partial class DatabaseInitializer
{
    /// <summary>Applies pending migrations and, in Development, adds the seed users and organizations that are missing.</summary>
    public static async Task InitializeDatabaseAsync(this WebApplication app)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var db = services.GetRequiredService<AppDbContext>();
        await db.Database.MigrateAsync();
        await SignInDecoy.EnsureAsync(db);

        if (app.Environment.IsDevelopment())
        {
            var seed = app.Configuration.GetSection(SeedOptions.SectionName).Get<SeedOptions>() ?? new SeedOptions();
            await SeedAsync(services, seed);
        }
    }

    private static async Task SeedAsync(IServiceProvider services, SeedOptions seed)
    {
        var users = services.GetRequiredService<UserAdministration>();
        var organizations = services.GetRequiredService<OrganizationAdministration>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(DatabaseInitializer));

        foreach (var user in seed.Users)
        {
            var result = await users.EnsureUserAsync(user.UserName, user.Password, user.Roles);
            if (!result.Succeeded)
            {
                throw new InvalidOperationException(
                    $"Could not seed user '{user.UserName}': {string.Join(" ", result.Errors.Select(e => e.Description))}");
            }
        }

        foreach (var organization in seed.Organizations)
        {
            var created = await organizations.EnsureOrganizationAsync(organization.Slug, organization.Name);
            if (created.Error is { } error)
            {
                throw new InvalidOperationException($"Could not seed organization '{organization.Slug}': {error}");
            }

            foreach (var member in organization.Members)
            {
                if (!OrganizationRoleNames.TryParse(member.Role, out var role))
                {
                    throw new InvalidOperationException($"Seed member '{member.UserName}' of '{organization.Slug}' has an unknown role.");
                }

                var joined = await organizations.SetMembershipAsync(organization.Slug, member.UserName, role);
                if (joined.Error is { } memberError)
                {
                    throw new InvalidOperationException($"Could not seed a member of '{organization.Slug}': {memberError}");
                }
            }
        }

        Log.Seeded(logger, seed.Users.Count, seed.Organizations.Count);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Development seed applied: {UserCount} users, {OrganizationCount} organizations")]
        public static partial void Seeded(ILogger logger, int userCount, int organizationCount);
    }
}

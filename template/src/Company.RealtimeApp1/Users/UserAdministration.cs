using Company.RealtimeApp1.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Company.RealtimeApp1.Users;

/// <summary>One user as the <c>users list</c> command shows them.</summary>
internal sealed record UserSummary(string UserName, IReadOnlyList<string> Roles, bool IsDisabled, bool IsLockedOut);

/// <summary>
/// Creates and administers users; used by the Development seed and the <c>users</c> command. Every change that withdraws authority goes through <see cref="RevokingUserManager"/>,
/// which revokes the user's refresh-token families and closes their sockets.
/// </summary>
internal sealed class UserAdministration(RevokingUserManager users, RoleManager<Role> roles, AppDbContext db, TimeProvider time)
{
    public async Task<IdentityResult> CreateUserAsync(string userName, string password, IEnumerable<string> roleNames)
    {
        var user = new User { UserName = userName };
        var created = await users.CreateAsync(user, password);
        return created.Succeeded ? await AddToRolesAsync(user, roleNames) : created;
    }

    /// <summary>Creates the user unless one with that name exists; an existing user is left as it is.</summary>
    public async Task<IdentityResult> EnsureUserAsync(string userName, string password, IEnumerable<string> roleNames) =>
        await users.FindByNameAsync(userName) is null
            ? await CreateUserAsync(userName, password, roleNames)
            : IdentityResult.Success;

    /// <summary>Sets the user's password without the old one: an administrator's reset.</summary>
    public Task<IdentityResult> SetPasswordAsync(string userName, string password) =>
        ChangeAsync(userName, user => users.ReplacePasswordAsync(user, password));

    public Task<IdentityResult> SetDisabledAsync(string userName, bool disabled) =>
        ChangeAsync(userName, user =>
        {
            user.IsDisabled = disabled;
            return users.UpdateAsync(user);
        });

    public Task<IdentityResult> DeleteUserAsync(string userName) => ChangeAsync(userName, users.DeleteAsync);

    public async Task<IReadOnlyList<UserSummary>> ListUsersAsync()
    {
        var now = time.GetUtcNow();
        // The sign-in decoy has no name: it is no one's account.
        var all = await users.Users.AsNoTracking().Where(u => u.UserName != null).OrderBy(u => u.UserName).ToListAsync();
        var userRoles = (await db.UserRoles.Join(db.Roles, ur => ur.RoleId, r => r.Id, (ur, r) => new { ur.UserId, r.Name }).ToListAsync())
            .ToLookup(ur => ur.UserId, ur => ur.Name ?? "");
        return [.. all.Select(user => new UserSummary(
            user.UserName!, [.. userRoles[user.Id].Order(StringComparer.Ordinal)], user.IsDisabled, user.LockoutEnd > now))];
    }

    private async Task<IdentityResult> ChangeAsync(string userName, Func<User, Task<IdentityResult>> change) =>
        await users.FindByNameAsync(userName) is { } user
            ? await change(user)
            : IdentityResult.Failed(new IdentityError { Code = "UnknownUser", Description = $"There is no user '{userName}'." });

    private async Task<IdentityResult> AddToRolesAsync(User user, IEnumerable<string> roleNames)
    {
        foreach (var roleName in roleNames)
        {
            if (!await roles.RoleExistsAsync(roleName))
            {
                var created = await roles.CreateAsync(new Role(roleName));
                if (!created.Succeeded)
                {
                    return created;
                }
            }

            var added = await users.AddToRoleAsync(user, roleName);
            if (!added.Succeeded)
            {
                return added;
            }
        }

        return IdentityResult.Success;
    }
}

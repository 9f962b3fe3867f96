using Microsoft.AspNetCore.Identity;

namespace Company.RealtimeApp1.Users;

/// <summary>Creates users and grants roles; used by the Development seed and the <c>users</c> command.</summary>
internal sealed class UserAdministration(UserManager<User> users, RoleManager<Role> roles)
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

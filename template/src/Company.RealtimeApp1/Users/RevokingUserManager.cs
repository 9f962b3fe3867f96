using Company.RealtimeApp1.Auth;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.WebSockets;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Users;

/// <summary>
/// Identity's user manager, ending every session of the user when their authority ends: a new security
/// stamp (password change, or any change Identity treats as a credential change), disabling, deletion.
/// Their refresh-token families are revoked and their sockets closed (4001); access tokens already fail
/// on the next request, but open sockets and refresh tokens would otherwise live on.
/// </summary>
internal sealed class RevokingUserManager(
    IUserStore<User> store,
    IOptions<IdentityOptions> optionsAccessor,
    IPasswordHasher<User> passwordHasher,
    IEnumerable<IUserValidator<User>> userValidators,
    IEnumerable<IPasswordValidator<User>> passwordValidators,
    ILookupNormalizer keyNormalizer,
    IdentityErrorDescriber errors,
    IServiceProvider services,
    ILogger<UserManager<User>> logger,
    AppDbContext db,
    RefreshTokenStore refreshTokens,
    ConnectionRevocations revocations)
    : UserManager<User>(store, optionsAccessor, passwordHasher, userValidators, passwordValidators, keyNormalizer, errors, services, logger)
{
    protected override async Task<IdentityResult> UpdateUserAsync(User user)
    {
        var before = await db.Users.AsNoTracking()
            .Where(u => u.Id == user.Id)
            .Select(u => new { u.SecurityStamp, u.IsDisabled })
            .SingleOrDefaultAsync(CancellationToken);
        var result = await base.UpdateUserAsync(user);
        if (result.Succeeded && before is not null && !before.IsDisabled && user.IsDisabled)
        {
            await refreshTokens.RevokeAllFamiliesAsync(user.Id, CancellationToken);
            await revocations.RevokeUserAsync(user.Id, "credentials changed", CancellationToken);
        }
        else if (result.Succeeded && before is not null && before.SecurityStamp != user.SecurityStamp)
        {
            // Tokens issued from now on carry the new stamp (POST /me/password answers one at once): their sockets
            // stay, wherever and whenever the revocation reaches them.
            await refreshTokens.RevokeAllFamiliesAsync(user.Id, CancellationToken);
            await revocations.RevokeOtherCredentialsAsync(user.Id, "credentials changed",
                new ValidCredential(TokenClaims.SecurityStamp, TokenClaims.DigestSecurityStamp(user.SecurityStamp)), CancellationToken);
        }

        return result;
    }

    /// <summary>
    /// Sets a new password, validated like any other, without asking for the old one (the caller has
    /// checked it, or is an administrator); the new security stamp ends every other session.
    /// </summary>
    public async Task<IdentityResult> ReplacePasswordAsync(User user, string newPassword)
    {
        var changed = await UpdatePasswordHash(user, newPassword, validatePassword: true);
        return changed.Succeeded ? await UpdateUserAsync(user) : changed;
    }

    public override async Task<IdentityResult> DeleteAsync(User user)
    {
        var result = await base.DeleteAsync(user);
        if (result.Succeeded)
        {
            await revocations.RevokeUserAsync(user.Id, "user deleted", CancellationToken);
        }

        return result;
    }
}

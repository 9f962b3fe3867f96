using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Users;

/// <summary>
/// Checks a username and password the way the token endpoint needs: every failure looks the same and
/// costs the same bcrypt work, whether the user is unknown, locked, disabled or mistyped.
/// </summary>
internal sealed partial class PasswordSignIn(
    UserManager<User> users,
    IPasswordHasher<User> hasher,
    DummyPasswordHash dummyHash,
    ILogger<PasswordSignIn> logger)
{
    public async Task<User?> SignInAsync(string username, string password)
    {
        var user = await users.FindByNameAsync(username);
        if (user?.PasswordHash is null)
        {
            // Spend the time a real verification takes, so response times do not reveal who exists.
            hasher.VerifyHashedPassword(new User(), dummyHash.Value, password);
            Log.UnknownUser(logger);
            return null;
        }

        if (user.IsDisabled || await users.IsLockedOutAsync(user))
        {
            hasher.VerifyHashedPassword(user, user.PasswordHash, password);
            Log.SignInRefused(logger, user.Id);
            return null;
        }

        // CheckPasswordAsync also upgrades the stored hash when the work factor was raised.
        if (!await users.CheckPasswordAsync(user, password))
        {
            await users.AccessFailedAsync(user);
            Log.WrongPassword(logger, user.Id);
            return null;
        }

        if (await users.GetAccessFailedCountAsync(user) > 0)
        {
            await users.ResetAccessFailedCountAsync(user);
        }

        return user;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Password sign-in failed: no such user")]
        public static partial void UnknownUser(ILogger logger);

        [LoggerMessage(2, LogLevel.Information, "Password sign-in refused for user {UserId}: locked out or disabled")]
        public static partial void SignInRefused(ILogger logger, Guid userId);

        [LoggerMessage(3, LogLevel.Information, "Password sign-in failed for user {UserId}: wrong password")]
        public static partial void WrongPassword(ILogger logger, Guid userId);
    }
}

/// <summary>A bcrypt hash of a random secret, made once at the configured work factor, to verify against when there is no user.</summary>
internal sealed class DummyPasswordHash(IOptions<PasswordHashingOptions> options)
{
    private readonly Lazy<string> _hash = new(
        () => BCrypt.Net.BCrypt.HashPassword(Guid.NewGuid().ToString("N"), options.Value.WorkFactor));

    public string Value => _hash.Value;
}

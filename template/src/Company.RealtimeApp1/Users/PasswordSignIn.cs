using Company.RealtimeApp1.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Users;

/// <summary>
/// Checks a username and password the way the token endpoint needs: every failure looks the same and
/// costs the same, whether the user is unknown, locked, disabled or mistyped: one read, one bcrypt
/// verification and one write, the same statements in every case.
/// </summary>
internal sealed partial class PasswordSignIn(
    UserManager<User> users,
    IPasswordHasher<User> hasher,
    DummyPasswordHash dummyHash,
    AppDbContext db,
    IOptions<IdentityOptions> identityOptions,
    TimeProvider time,
    ILogger<PasswordSignIn> logger)
{
    public async Task<User?> SignInAsync(string username, string password)
    {
        var user = await users.FindByNameAsync(username);
        if (user?.PasswordHash is null)
        {
            // Spend the time a real verification takes, so response times do not reveal who exists.
            hasher.VerifyHashedPassword(new User(), dummyHash.Value, password);
            await ChargeFailureAsync(NoUser);
            Log.UnknownUser(logger);
            return null;
        }

        if (user.IsDisabled || await users.IsLockedOutAsync(user))
        {
            // Refused whatever the password; the failure is not charged, so it cannot extend a lockout.
            hasher.VerifyHashedPassword(user, user.PasswordHash, password);
            await ChargeFailureAsync(NoUser);
            Log.SignInRefused(logger, user.Id);
            return null;
        }

        // CheckPasswordAsync also upgrades the stored hash when the work factor was raised.
        if (!await users.CheckPasswordAsync(user, password))
        {
            await ChargeFailureAsync(user.Id);
            Log.WrongPassword(logger, user.Id);
            return null;
        }

        if (await users.GetAccessFailedCountAsync(user) > 0)
        {
            await users.ResetAccessFailedCountAsync(user);
        }

        return user;
    }

    // A failure that must not count (no such user, or one locked out or disabled) is charged to the decoy:
    // the same statement changing one row, as for a real user.
    private static readonly Guid NoUser = SignInDecoy.Id;

    /// <summary>
    /// What Identity's <c>AccessFailedAsync</c> does (one more failure; at the limit, lock out and start
    /// counting again), as one statement. Identity's own path reads the user again and validates it before
    /// saving, work an unknown user would not cost; this is also atomic under concurrent attempts.
    /// </summary>
    private async Task ChargeFailureAsync(Guid userId)
    {
        var lockout = identityOptions.Value.Lockout;
        var lockoutEnd = (DateTimeOffset?)time.GetUtcNow().Add(lockout.DefaultLockoutTimeSpan);
        var concurrencyStamp = Guid.NewGuid().ToString();
        await db.Users
            .Where(u => u.Id == userId)
            .ExecuteUpdateAsync(update => update
                .SetProperty(u => u.LockoutEnd, u => u.AccessFailedCount + 1 >= lockout.MaxFailedAccessAttempts ? lockoutEnd : u.LockoutEnd)
                .SetProperty(u => u.AccessFailedCount, u => u.AccessFailedCount + 1 >= lockout.MaxFailedAccessAttempts ? 0 : u.AccessFailedCount + 1)
                .SetProperty(u => u.ConcurrencyStamp, concurrencyStamp));
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

/// <summary>
/// A row in the users table that no one can sign in as (it has no name and no password), so that a
/// failure that counts against nobody still writes one row, exactly as a failure that counts does: on
/// PostgreSQL a transaction that changed nothing skips the log flush a real write waits for, and the
/// difference would tell which usernames exist.
/// </summary>
internal static class SignInDecoy
{
    public static readonly Guid Id = new("5ec0de0e-0000-7000-8000-000000000000");

    /// <summary>Adds the decoy unless it is there; several instances starting at once may race, and one wins.</summary>
    public static async Task EnsureAsync(AppDbContext db, CancellationToken cancellationToken = default)
    {
        if (await db.Users.AnyAsync(u => u.Id == Id, cancellationToken))
        {
            return;
        }

        db.Users.Add(new User { Id = Id, IsDisabled = true, LockoutEnabled = true });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another instance added it first, unless something else is wrong: then this read fails too.
            db.ChangeTracker.Clear();
            if (!await db.Users.AnyAsync(u => u.Id == Id, cancellationToken))
            {
                throw;
            }
        }
    }
}

/// <summary>A bcrypt hash of a random secret, made once at the configured work factor, to verify against when there is no user.</summary>
internal sealed class DummyPasswordHash(IOptions<PasswordHashingOptions> options)
{
    private readonly Lazy<string> _hash = new(
        () => BCrypt.Net.BCrypt.HashPassword(Guid.NewGuid().ToString("N"), options.Value.WorkFactor));

    public string Value => _hash.Value;
}

using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Users;

/// <summary>Bound from the <c>PasswordHashing</c> section.</summary>
public sealed class PasswordHashingOptions
{
    public const string SectionName = "PasswordHashing";

    /// <summary>
    /// bcrypt's cost: each step doubles the time a hash takes. Raising it upgrades existing hashes the
    /// next time their owners sign in.
    /// </summary>
    [Range(4, 31)]
    public int WorkFactor { get; set; } = 11;
}

[OptionsValidator]
internal sealed partial class PasswordHashingOptionsValidator : IValidateOptions<PasswordHashingOptions>;

/// <summary>Identity's password hasher, backed by bcrypt (BCrypt.Net-Next).</summary>
public sealed class BcryptPasswordHasher<TUser>(IOptions<PasswordHashingOptions> options) : IPasswordHasher<TUser>
    where TUser : class
{
    /// <summary>bcrypt reads at most this many bytes of a password and silently ignores the rest.</summary>
    public const int MaxPasswordBytes = 72;

    private readonly int _workFactor = options.Value.WorkFactor;

    public string HashPassword(TUser user, string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        return BCrypt.Net.BCrypt.HashPassword(password, _workFactor);
    }

    public PasswordVerificationResult VerifyHashedPassword(TUser user, string hashedPassword, string providedPassword)
    {
        ArgumentNullException.ThrowIfNull(providedPassword);
        if (string.IsNullOrEmpty(hashedPassword))
        {
            return PasswordVerificationResult.Failed;
        }

        bool verified;
        try
        {
            verified = BCrypt.Net.BCrypt.Verify(providedPassword, hashedPassword);
        }
        catch (BCrypt.Net.SaltParseException)
        {
            // Not a bcrypt hash (for example one imported from another scheme): treat as a mismatch.
            return PasswordVerificationResult.Failed;
        }

        if (!verified)
        {
            return PasswordVerificationResult.Failed;
        }

        return BCrypt.Net.BCrypt.PasswordNeedsRehash(hashedPassword, _workFactor)
            ? PasswordVerificationResult.SuccessRehashNeeded
            : PasswordVerificationResult.Success;
    }
}

/// <summary>Refuses passwords bcrypt would truncate, so that what a user typed is what protects them.</summary>
public sealed class BcryptLengthPasswordValidator<TUser> : IPasswordValidator<TUser>
    where TUser : class
{
    public const string ErrorCode = "PasswordTooLong";

    public Task<IdentityResult> ValidateAsync(UserManager<TUser> manager, TUser user, string? password)
    {
        if (password is not null && System.Text.Encoding.UTF8.GetByteCount(password) > BcryptPasswordHasher<TUser>.MaxPasswordBytes)
        {
            return Task.FromResult(IdentityResult.Failed(new IdentityError
            {
                Code = ErrorCode,
                Description = $"Passwords must be at most {BcryptPasswordHasher<TUser>.MaxPasswordBytes} UTF-8 bytes long.",
            }));
        }

        return Task.FromResult(IdentityResult.Success);
    }
}

using System.ComponentModel.DataAnnotations;
using System.Text;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Auth;

/// <summary>How access and refresh tokens are issued and validated. Bound from the <c>Jwt</c> section.</summary>
public sealed class JwtOptions
{
    public const string SectionName = "Jwt";

    /// <summary>The smallest HS256 key we accept, in UTF-8 bytes (RFC 7518 §3.2 asks for the hash size).</summary>
    public const int MinimumKeyBytes = 32;

    [Required]
    public string Issuer { get; set; } = "Company.RealtimeApp1";

    [Required]
    public string Audience { get; set; } = "Company.RealtimeApp1";

    /// <summary>The HS256 signing key, at least 32 UTF-8 bytes. Keep it out of source control outside Development.</summary>
    public string SigningKey { get; set; } = "";

    [Range(1, 24 * 60)]
    public int AccessTokenMinutes { get; set; } = 15;

    [Range(1, 365)]
    public int RefreshTokenDays { get; set; } = 14;

    /// <summary>Tolerated clock difference when checking <c>exp</c> and <c>nbf</c>.</summary>
    [Range(0, 300)]
    public int ClockSkewSeconds { get; set; } = 30;

    public TimeSpan AccessTokenLifetime => TimeSpan.FromMinutes(AccessTokenMinutes);

    public TimeSpan RefreshTokenLifetime => TimeSpan.FromDays(RefreshTokenDays);

    public byte[] SigningKeyBytes => Encoding.UTF8.GetBytes(SigningKey);
}

[OptionsValidator]
internal sealed partial class JwtOptionsValidator : IValidateOptions<JwtOptions>;

/// <summary>Refuses to start without a usable signing key, naming the setting to fix.</summary>
internal sealed class JwtSigningKeyValidator : IValidateOptions<JwtOptions>
{
    public ValidateOptionsResult Validate(string? name, JwtOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.SigningKey))
        {
            return ValidateOptionsResult.Fail(
                $"No signing key is configured. Set '{JwtOptions.SectionName}:SigningKey' (environment variable " +
                $"'{JwtOptions.SectionName}__SigningKey') to a random value of at least {JwtOptions.MinimumKeyBytes} bytes.");
        }

        var length = Encoding.UTF8.GetByteCount(options.SigningKey);
        return length < JwtOptions.MinimumKeyBytes
            ? ValidateOptionsResult.Fail(
                $"'{JwtOptions.SectionName}:SigningKey' is {length} bytes long; it must be at least {JwtOptions.MinimumKeyBytes} bytes.")
            : ValidateOptionsResult.Success;
    }
}

using System.Security.Cryptography;
using System.Text;
using Company.RealtimeApp1.Users;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Company.RealtimeApp1.Auth;

/// <summary>The claim names our access tokens carry.</summary>
public static class TokenClaims
{
    public const string Subject = JwtRegisteredClaimNames.Sub;
    public const string Name = "name";
    public const string Role = "role";

    /// <summary>
    /// A digest of the user's Identity security stamp. Identity changes the stamp on a password change
    /// (and on demand), which invalidates every access token issued before. The stamp itself also keys
    /// Identity's one-time codes, so only a digest leaves the server.
    /// </summary>
    public const string SecurityStamp = "sst";

    /// <summary>Reads the user id and security-stamp digest every access token of ours carries.</summary>
    public static bool TryReadUser(System.Security.Claims.ClaimsPrincipal principal, out Guid userId, out string stamp)
    {
        stamp = principal.FindFirst(SecurityStamp)?.Value ?? "";
        return Guid.TryParse(principal.FindFirst(Subject)?.Value, out userId) & stamp.Length > 0;
    }

    /// <summary>
    /// The same claims in an identity that no longer references the validated token. JsonWebTokenHandler's
    /// identity keeps the <see cref="JsonWebToken"/> it was read from (its parsed header and payload and a
    /// second copy of every claim, about 3.5 KB), and a principal lives as long as its request: for a
    /// WebSocket, as long as the socket.
    /// </summary>
    public static System.Security.Claims.ClaimsPrincipal DetachFromToken(System.Security.Claims.ClaimsPrincipal principal) =>
        principal.Identity is System.Security.Claims.ClaimsIdentity identity
            ? new(new CaseSensitiveClaimsIdentity(identity.Claims, identity.AuthenticationType, identity.NameClaimType, identity.RoleClaimType))
            : principal;

    public static string DigestSecurityStamp(string? securityStamp) =>
        Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(securityStamp ?? "")).AsSpan(0, 16).ToArray());
}

public readonly record struct AccessToken(string Value, DateTimeOffset ExpiresAt, TimeSpan Lifetime);

/// <summary>Signs HS256 access tokens for signed-in users.</summary>
public sealed class AccessTokenIssuer(IOptions<JwtOptions> options, TimeProvider time)
{
    private readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };
    private readonly JwtOptions _options = options.Value;
    private readonly SigningCredentials _credentials = new(
        new SymmetricSecurityKey(options.Value.SigningKeyBytes), SecurityAlgorithms.HmacSha256);

    public AccessToken Issue(User user, IEnumerable<string> roles)
    {
        ArgumentNullException.ThrowIfNull(user);
        var now = time.GetUtcNow();
        // JWT times have one-second resolution; round so that expires_in and exp agree.
        now = DateTimeOffset.FromUnixTimeSeconds(now.ToUnixTimeSeconds());
        var expiresAt = now + _options.AccessTokenLifetime;

        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = _options.Issuer,
            Audience = _options.Audience,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = expiresAt.UtcDateTime,
            SigningCredentials = _credentials,
            Claims = new Dictionary<string, object>
            {
                [TokenClaims.Subject] = user.Id.ToString(),
                [TokenClaims.Name] = user.UserName ?? "",
                [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
                [TokenClaims.SecurityStamp] = TokenClaims.DigestSecurityStamp(user.SecurityStamp),
                [TokenClaims.Role] = roles.ToArray(),
            },
        });

        return new AccessToken(token, expiresAt, _options.AccessTokenLifetime);
    }
}

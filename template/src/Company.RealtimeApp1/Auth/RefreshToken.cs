namespace Company.RealtimeApp1.Auth;

/// <summary>
/// One sign-in (a password grant) and every refresh token rotated from it. The family, not each token,
/// is what expires and what is revoked: a token issued into a family revoked a moment before is dead
/// from the start, so no race between a rotation and a revocation can leave a live token behind.
/// </summary>
public sealed class RefreshTokenFamily
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    public Guid UserId { get; init; }

    /// <summary>The digest of the user's security stamp at sign-in: a refresh after a password change is refused.</summary>
    public required string SecurityStampDigest { get; init; }

    public DateTime CreatedAt { get; init; }

    /// <summary><c>Jwt:RefreshTokenDays</c> after the sign-in; rotation does not extend it.</summary>
    public DateTime ExpiresAt { get; init; }

    /// <summary>Set when the family was revoked (reuse detected, RFC 7009 revocation, the user's authority withdrawn).</summary>
    public DateTime? RevokedAt { get; set; }
}

/// <summary>One issued refresh token of a <see cref="RefreshTokenFamily"/>. Only a SHA-256 hash of the token is stored.</summary>
public sealed class RefreshToken
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    public required string TokenHash { get; init; }

    public Guid FamilyId { get; init; }

    public RefreshTokenFamily? Family { get; init; }

    public DateTime CreatedAt { get; init; }

    /// <summary>Set when the token was exchanged for a new pair; presenting it again revokes the family.</summary>
    public DateTime? ConsumedAt { get; set; }
}

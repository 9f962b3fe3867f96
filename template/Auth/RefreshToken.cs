namespace Company.RealtimeApp1.Auth;

/// <summary>
/// One issued refresh token. Only a SHA-256 hash of the token is stored. Every token descends from
/// one password grant (its family); presenting a consumed token again revokes the whole family.
/// </summary>
public sealed class RefreshToken
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    public required string TokenHash { get; init; }

    public Guid FamilyId { get; init; }

    public Guid UserId { get; init; }

    public DateTime CreatedAt { get; init; }

    public DateTime ExpiresAt { get; init; }

    /// <summary>Set when the token was exchanged for a new pair.</summary>
    public DateTime? ConsumedAt { get; set; }

    /// <summary>Set when the token's family was revoked (reuse detected, logout, or RFC 7009 revocation).</summary>
    public DateTime? RevokedAt { get; set; }
}

using System.Text.Json.Serialization;

namespace Company.RealtimeApp1.Auth;

/// <summary>A successful token response (RFC 6749 §5.1).</summary>
public sealed record TokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] long ExpiresIn,
    [property: JsonPropertyName("refresh_token")] string RefreshToken);

/// <summary>An error response (RFC 6749 §5.2).</summary>
public sealed record OAuthError(
    [property: JsonPropertyName("error")] string Error,
    [property: JsonPropertyName("error_description")] string Description)
{
    public static OAuthError InvalidRequest(string description) => new("invalid_request", description);

    public static OAuthError UnsupportedGrantType(string description) => new("unsupported_grant_type", description);

    /// <summary>One answer for every credential failure, so that none of them tells an attacker more.</summary>
    public static OAuthError InvalidGrant(string description) => new("invalid_grant", description);

    public static OAuthError RateLimited { get; } = new("too_many_requests", "Too many requests; retry after the time in the Retry-After header.");
}

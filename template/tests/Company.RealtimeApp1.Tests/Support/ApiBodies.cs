using System.Text.Json.Serialization;

namespace Company.RealtimeApp1.Tests;

// The API's JSON bodies as a client sees them, declared here rather than borrowed from the app so
// that a renamed property fails a test instead of silently changing the contract.

public sealed record TokenPair(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] long ExpiresIn,
    [property: JsonPropertyName("refresh_token")] string RefreshToken);

public sealed record Me(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("username")] string Username,
    [property: JsonPropertyName("roles")] string[] Roles,
    [property: JsonPropertyName("organizations")] MyOrg[] Organizations);

public sealed record MyOrg(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("slug")] string Slug,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("role")] string Role);

using System.ComponentModel;
using System.Text.Json.Serialization;

namespace Company.RealtimeApp1.Auth;

// The forms the credential endpoints read, as the API description shows them (application/x-www-form-urlencoded).
// The endpoints read the form themselves (CredentialForm), to answer RFC 6749's errors for a missing, empty or
// repeated field; these records only describe it.

/// <summary><c>POST /token</c>: the password grant (RFC 6749 §4.3.2) or the refresh-token grant (§6).</summary>
public sealed record TokenForm(
    [property: JsonPropertyName("grant_type"), Description("password or refresh_token")] string GrantType,
    [property: JsonPropertyName("username"), Description("The password grant's user name")] string? Username = null,
    [property: JsonPropertyName("password"), Description("The password grant's password (at most 1 KiB)")] string? Password = null,
    [property: JsonPropertyName("refresh_token"), Description("The refresh-token grant's refresh token (single use)")] string? RefreshToken = null);

/// <summary><c>POST /token/revoke</c> (RFC 7009).</summary>
public sealed record RevokeForm([property: JsonPropertyName("token"), Description("A refresh token: its whole family is revoked")] string Token);

/// <summary><c>POST /session</c>: a browser's sign-in.</summary>
public sealed record SessionForm(
    [property: JsonPropertyName("username")] string Username,
    [property: JsonPropertyName("password")] string Password);

/// <summary><c>POST /me/password</c>.</summary>
public sealed record PasswordChangeForm(
    [property: JsonPropertyName("current_password")] string CurrentPassword,
    [property: JsonPropertyName("new_password"), Description("12 characters at least, 72 UTF-8 bytes at most")] string NewPassword);

internal static class CredentialFormDescriptions
{
    public const string FormContentType = "application/x-www-form-urlencoded";

    /// <summary>
    /// Describes the endpoint's request body as the form <typeparamref name="TForm"/>, in the API description only:
    /// <c>Accepts</c> would also make routing answer 415 to any other body, where the endpoint answers 400 invalid_request.
    /// </summary>
    public static RouteHandlerBuilder AcceptsForm<TForm>(this RouteHandlerBuilder builder) where TForm : notnull =>
        builder.AddOpenApiOperationTransformer(async (operation, context, cancellationToken) =>
            operation.RequestBody = new Microsoft.OpenApi.OpenApiRequestBody
            {
                Required = true,
                Content = new Dictionary<string, Microsoft.OpenApi.OpenApiMediaType>
                {
                    [FormContentType] = new() { Schema = await context.GetOrCreateSchemaAsync(typeof(TForm), null, cancellationToken) },
                },
            });
}

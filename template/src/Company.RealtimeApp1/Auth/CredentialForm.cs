using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;

namespace Company.RealtimeApp1.Auth;

/// <summary>
/// Reads a form-urlencoded body that carries credentials, by the rules of RFC 6749 §3.2: form only,
/// small, every parameter at most once, an empty value counts as missing. Errors are OAuth error bodies.
/// </summary>
internal static class CredentialForm
{
    // Small enough that a sign-in cannot be used to buffer megabytes, large enough for any real one.
    private static readonly FormOptions Limits = new()
    {
        ValueCountLimit = 16,
        KeyLengthLimit = 64,
        ValueLengthLimit = 8 * 1024,
    };

    public static async Task<(IFormCollection? Form, OAuthError? Error)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            return (null, OAuthError.InvalidRequest(
                "The request body must be application/x-www-form-urlencoded (RFC 6749 §3.2)."));
        }

        // RFC 6749 Appendix B: the form is UTF-8. Any other charset named is refused here, before the framework's
        // form reader, which throws for one .NET cannot decode (utf-7) and would decode others' escapes differently.
        if (contentType.Charset.HasValue
            && !HeaderUtilities.RemoveQuotes(contentType.Charset).Equals("utf-8", StringComparison.OrdinalIgnoreCase))
        {
            return (null, OAuthError.InvalidRequest("The form must be UTF-8 (RFC 6749 Appendix B)."));
        }

        try
        {
            return (await request.ReadFormAsync(Limits, cancellationToken), null);
        }
        // A broken chunked body is an IOException of Kestrel's (a chunk size that overflows is not even a BadHttpRequestException).
        catch (Exception exception) when (exception is InvalidDataException or IOException)
        {
            return (null, OAuthError.InvalidRequest("The request body is not a valid form or is too large."));
        }
    }

    public static bool TryGetSingle(IFormCollection form, string name, out string value, [NotNullWhen(false)] out OAuthError? error)
    {
        var values = form[name];
        value = values.Count == 1 ? values[0] ?? "" : "";
        error = values.Count switch
        {
            > 1 => OAuthError.InvalidRequest($"The '{name}' parameter was given more than once."),
            _ when value.Length == 0 => OAuthError.InvalidRequest($"The '{name}' parameter is missing."),
            _ => null,
        };
        return error is null;
    }
}

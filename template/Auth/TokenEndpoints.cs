using System.Text;
using Company.RealtimeApp1.Users;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.Net.Http.Headers;

namespace Company.RealtimeApp1.Auth;

internal static class TokenEndpoints
{
    /// <summary>Passwords longer than this are refused before any hashing, so they cannot be used to burn CPU.</summary>
    public const int MaxPasswordBytes = 1024;

    // Small enough that a token request cannot be used to buffer megabytes, large enough for any real one.
    private static readonly FormOptions TokenFormOptions = new()
    {
        ValueCountLimit = 16,
        KeyLengthLimit = 64,
        ValueLengthLimit = 8 * 1024,
    };

    public static IEndpointRouteBuilder MapTokenEndpoints(this IEndpointRouteBuilder routes)
    {
        var token = routes.MapGroup("/token")
            .WithTags("Token")
            .AllowAnonymous()
            .WithNoStore()
            .RequireRateLimiting(TokenRateLimiting.PerClientPolicy)
            .DisableAntiforgery();

        token.MapPost("", IssueAsync)
            .WithSummary("OAuth 2.0 token endpoint: password and refresh_token grants (RFC 6749 §4.3, §6)");
        token.MapPost("/revoke", RevokeAsync)
            .WithSummary("Revokes a refresh token and every token rotated from the same sign-in (RFC 7009)");

        // Other methods get a JSON 405 rather than an empty one; Order 1 loses to the POST endpoints.
        token.MapMethods("", NonPostMethods, MethodNotAllowed).WithOrder(1).ExcludeFromDescription();
        token.MapMethods("/revoke", NonPostMethods, MethodNotAllowed).WithOrder(1).ExcludeFromDescription();

        return routes;
    }

    private static readonly string[] NonPostMethods =
        [HttpMethods.Get, HttpMethods.Head, HttpMethods.Put, HttpMethods.Patch, HttpMethods.Delete, HttpMethods.Options];

    private static async Task<Results<Ok<TokenResponse>, BadRequest<OAuthError>, TooManyRequestsResult>> IssueAsync(
        HttpContext context,
        TokenGrants grants,
        CancellationToken cancellationToken)
    {
        var (form, error) = await ReadFormAsync(context.Request, cancellationToken);
        if (error is not null)
        {
            return TypedResults.BadRequest(error);
        }

        if (!TryGetSingle(form!, "grant_type", out var grantType, out error))
        {
            return TypedResults.BadRequest(error);
        }

        return grantType switch
        {
            "password" => await PasswordGrantAsync(form!, grants, cancellationToken),
            "refresh_token" => await RefreshGrantAsync(form!, grants, cancellationToken),
            _ => TypedResults.BadRequest(OAuthError.UnsupportedGrantType(
                "grant_type must be 'password' or 'refresh_token'.")),
        };
    }

    private static async Task<Results<Ok<TokenResponse>, BadRequest<OAuthError>, TooManyRequestsResult>> PasswordGrantAsync(
        IFormCollection form, TokenGrants grants, CancellationToken cancellationToken)
    {
        if (!TryGetSingle(form, "username", out var username, out var error)
            || !TryGetSingle(form, "password", out var password, out error))
        {
            return TypedResults.BadRequest(error);
        }

        if (Encoding.UTF8.GetByteCount(password) > MaxPasswordBytes)
        {
            return TypedResults.BadRequest(OAuthError.InvalidRequest(
                $"The password parameter is longer than {MaxPasswordBytes} bytes."));
        }

        return await grants.PasswordAsync(username, password, cancellationToken);
    }

    private static async Task<Results<Ok<TokenResponse>, BadRequest<OAuthError>, TooManyRequestsResult>> RefreshGrantAsync(
        IFormCollection form, TokenGrants grants, CancellationToken cancellationToken)
    {
        if (!TryGetSingle(form, "refresh_token", out var refreshToken, out var error))
        {
            return TypedResults.BadRequest(error);
        }

        return await grants.RefreshAsync(refreshToken, cancellationToken);
    }

    private static async Task<Results<Ok, BadRequest<OAuthError>>> RevokeAsync(
        HttpContext context,
        RefreshTokenStore refreshTokens,
        CancellationToken cancellationToken)
    {
        var (form, error) = await ReadFormAsync(context.Request, cancellationToken);
        if (error is not null || !TryGetSingle(form!, "token", out var token, out error))
        {
            return TypedResults.BadRequest(error);
        }

        // RFC 7009 §2.2: the answer is the same whether or not the token was known.
        await refreshTokens.RevokeAsync(token, cancellationToken);
        return TypedResults.Ok();
    }

    private static JsonHttpResult<OAuthError> MethodNotAllowed(HttpContext context)
    {
        context.Response.Headers.Allow = HttpMethods.Post;
        return TypedResults.Json(
            OAuthError.InvalidRequest("This endpoint accepts POST only."),
            statusCode: StatusCodes.Status405MethodNotAllowed);
    }

    private static async Task<(IFormCollection? Form, OAuthError? Error)> ReadFormAsync(
        HttpRequest request, CancellationToken cancellationToken)
    {
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            return (null, OAuthError.InvalidRequest(
                "The request body must be application/x-www-form-urlencoded (RFC 6749 §3.2)."));
        }

        try
        {
            return (await request.ReadFormAsync(TokenFormOptions, cancellationToken), null);
        }
        catch (Exception exception) when (exception is InvalidDataException or BadHttpRequestException)
        {
            return (null, OAuthError.InvalidRequest("The request body is not a valid form or is too large."));
        }
    }

    /// <summary>RFC 6749 §3.2: parameters sent without a value are treated as omitted, and none may repeat.</summary>
    private static bool TryGetSingle(IFormCollection form, string name, out string value, out OAuthError? error)
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

/// <summary>The grants themselves, once the request is known to be well formed.</summary>
internal sealed class TokenGrants(
    PasswordSignIn passwordSignIn,
    UserManager<User> users,
    UsernameRateLimiter usernameRateLimiter,
    AccessTokenIssuer accessTokens,
    RefreshTokenStore refreshTokens)
{
    public async Task<Results<Ok<TokenResponse>, BadRequest<OAuthError>, TooManyRequestsResult>> PasswordAsync(
        string username, string password, CancellationToken cancellationToken)
    {
        var lease = usernameRateLimiter.Acquire(users.NormalizeName(username));
        if (!lease.IsAcquired)
        {
            return new TooManyRequestsResult(lease);
        }

        var user = await passwordSignIn.SignInAsync(username, password);
        if (user is null)
        {
            return TypedResults.BadRequest(OAuthError.InvalidGrant("The username or password is incorrect."));
        }

        return TypedResults.Ok(await IssueAsync(user, familyId: null, cancellationToken));
    }

    public async Task<Results<Ok<TokenResponse>, BadRequest<OAuthError>, TooManyRequestsResult>> RefreshAsync(
        string refreshToken, CancellationToken cancellationToken)
    {
        var redeemed = await refreshTokens.RedeemAsync(refreshToken, cancellationToken);
        var user = redeemed is null ? null : await users.FindByIdAsync(redeemed.UserId.ToString());
        if (redeemed is null || user is null || user.IsDisabled)
        {
            return TypedResults.BadRequest(OAuthError.InvalidGrant("The refresh token is invalid, expired or revoked."));
        }

        return TypedResults.Ok(await IssueAsync(user, redeemed.FamilyId, cancellationToken));
    }

    private async Task<TokenResponse> IssueAsync(User user, Guid? familyId, CancellationToken cancellationToken)
    {
        var access = accessTokens.Issue(user, await users.GetRolesAsync(user));
        var refresh = await refreshTokens.IssueAsync(user.Id, familyId, cancellationToken);
        return new TokenResponse(access.Value, "Bearer", (long)access.Lifetime.TotalSeconds, refresh);
    }
}

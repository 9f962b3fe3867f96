using System.Text;
using Company.RealtimeApp1.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;

namespace Company.RealtimeApp1.Auth;

internal static class TokenEndpoints
{
    /// <summary>Passwords longer than this are refused before any hashing, so they cannot be used to burn CPU.</summary>
    public const int MaxPasswordBytes = 1024;

    public static IEndpointRouteBuilder MapTokenEndpoints(this IEndpointRouteBuilder routes)
    {
        var token = routes.MapGroup("/token")
            .WithTags("Token")
            .AllowAnonymous()
            .WithNoStore()
            .RequireRateLimiting(TokenRateLimiting.PerClientPolicy)
            .DisableAntiforgery()
            .AddEndpointFilter(RefuseCredentialsInQuery);

        token.MapPost("", IssueAsync)
            .AcceptsForm<TokenForm>()
            .WithSummary("OAuth 2.0 token endpoint: password and refresh_token grants (RFC 6749 §4.3, §6)");
        token.MapPost("/revoke", RevokeAsync)
            .AcceptsForm<RevokeForm>()
            .WithSummary("Revokes a refresh token and every token rotated from the same sign-in (RFC 7009)");

        // Other methods get a JSON 405 rather than an empty one; Order 1 loses to the POST endpoints.
        token.MapMethods("", NonPostMethods, MethodNotAllowed).WithOrder(1).ExcludeFromDescription();
        token.MapMethods("/revoke", NonPostMethods, MethodNotAllowed).WithOrder(1).ExcludeFromDescription();

        return routes;
    }

    // Query strings end up in request logs, proxy logs and browser history; RFC 6749 §3.2 wants the body.
    private static readonly string[] QueryCredentials = ["password", "refresh_token", "client_secret"];

    /// <summary>
    /// Refuses a request that puts a credential in its query string, whatever the endpoint would have
    /// answered. <c>Request.Query</c> decodes and ignores case, so <c>pass%77ord</c> is caught too.
    /// </summary>
    private static async ValueTask<object?> RefuseCredentialsInQuery(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var query = context.HttpContext.Request.Query;
        return QueryCredentials.Any(query.ContainsKey)
            ? TypedResults.BadRequest(OAuthError.InvalidRequest("Credentials belong in the form body, not in the query string."))
            : await next(context);
    }

    private static readonly string[] NonPostMethods =
        [HttpMethods.Get, HttpMethods.Head, HttpMethods.Put, HttpMethods.Patch, HttpMethods.Delete, HttpMethods.Options];

    private static async Task<Results<Ok<TokenResponse>, BadRequest<OAuthError>, TooManyRequestsResult>> IssueAsync(
        HttpContext context,
        TokenGrants grants,
        CancellationToken cancellationToken)
    {
        var (form, error) = await CredentialForm.ReadAsync(context.Request, cancellationToken);
        if (error is not null)
        {
            return TypedResults.BadRequest(error);
        }

        if (!CredentialForm.TryGetSingle(form!, "grant_type", out var grantType, out error))
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
        if (!CredentialForm.TryGetSingle(form, "username", out var username, out var error)
            || !CredentialForm.TryGetSingle(form, "password", out var password, out error))
        {
            return TypedResults.BadRequest(error);
        }

        return await grants.PasswordAsync(username, password, cancellationToken);
    }

    private static async Task<Results<Ok<TokenResponse>, BadRequest<OAuthError>, TooManyRequestsResult>> RefreshGrantAsync(
        IFormCollection form, TokenGrants grants, CancellationToken cancellationToken)
    {
        if (!CredentialForm.TryGetSingle(form, "refresh_token", out var refreshToken, out var error))
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
        var (form, error) = await CredentialForm.ReadAsync(context.Request, cancellationToken);
        if (error is not null || !CredentialForm.TryGetSingle(form!, "token", out var token, out error))
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
}

/// <summary>The outcome of a password check: the user, or the error to answer, or the rate limit that refused it.</summary>
internal readonly record struct PasswordCheck(User? User, OAuthError? Error, System.Threading.RateLimiting.RateLimitLease? RateLimited);

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
        var check = await CheckPasswordAsync(username, password);
        if (check.RateLimited is { } lease)
        {
            return new TooManyRequestsResult(lease);
        }

        return check.User is { } user
            ? TypedResults.Ok(await StartSessionAsync(user, cancellationToken))
            : TypedResults.BadRequest(check.Error);
    }

    /// <summary>
    /// A sign-in's token pair: a refresh family of its own and an access token, both bound to the user's security
    /// stamp as it is now (after a password change, the new one).
    /// </summary>
    public async Task<TokenResponse> StartSessionAsync(User user, CancellationToken cancellationToken) =>
        await IssueAsync(user, await refreshTokens.StartFamilyAsync(user, cancellationToken));

    /// <summary>
    /// What every password sign-in goes through (<c>/token</c> and <c>/session</c>): the size limit, the
    /// per-username rate limit, then one indistinguishable answer for every credential failure.
    /// </summary>
    public async Task<PasswordCheck> CheckPasswordAsync(string username, string password)
    {
        if (Encoding.UTF8.GetByteCount(password) > TokenEndpoints.MaxPasswordBytes)
        {
            return new PasswordCheck(null, OAuthError.InvalidRequest(
                $"The password parameter is longer than {TokenEndpoints.MaxPasswordBytes} bytes."), null);
        }

        var lease = await usernameRateLimiter.AcquireAsync(users.NormalizeName(username));
        if (!lease.IsAcquired)
        {
            return new PasswordCheck(null, null, lease);
        }

        var user = await passwordSignIn.SignInAsync(username, password);
        return user is null
            ? new PasswordCheck(null, OAuthError.InvalidGrant("The username or password is incorrect."), null)
            : new PasswordCheck(user, null, null);
    }

    public async Task<Results<Ok<TokenResponse>, BadRequest<OAuthError>, TooManyRequestsResult>> RefreshAsync(
        string refreshToken, CancellationToken cancellationToken)
    {
        return await RotateAsync(refreshToken, cancellationToken) is { } tokens
            ? TypedResults.Ok(tokens)
            : TypedResults.BadRequest(OAuthError.InvalidGrant("The refresh token is invalid, expired or revoked."));
    }

    /// <summary>The refresh grant's next pair, or null when the token is invalid, expired or revoked (a reuse revokes its family).</summary>
    public async Task<TokenResponse?> RotateAsync(string refreshToken, CancellationToken cancellationToken) =>
        await refreshTokens.RotateAsync(refreshToken, cancellationToken) is { } rotation
            ? await IssueAsync(rotation.User, rotation.RefreshToken)
            : null;

    private async Task<TokenResponse> IssueAsync(User user, string refreshToken)
    {
        var access = accessTokens.Issue(user, await users.GetRolesAsync(user));
        return new TokenResponse(access.Value, "Bearer", (long)access.Lifetime.TotalSeconds, refreshToken);
    }
}

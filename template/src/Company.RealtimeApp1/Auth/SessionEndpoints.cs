using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Auth;

/// <summary>
/// The answer to <c>POST /session</c> and <c>POST /session/refresh</c>: the access token for the page's bearer
/// calls (kept in memory), and its lifetime, so the page knows when to renew. The refresh token never leaves
/// its HttpOnly cookie.
/// </summary>
public sealed record SessionResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] long ExpiresIn);

/// <summary>
/// Which pages may sign a browser in or renew its session (<c>/session</c>): a page on another site could
/// otherwise post its own credentials and sign the browser in as someone else. The app answers with the same
/// allow-list its WebSocket handshakes use.
/// </summary>
public interface ISignInOriginPolicy
{
    /// <summary>True when the request has no <c>Origin</c> (not a browser) or an allowed one.</summary>
    bool Allows(HttpRequest request);

    /// <summary>True when the request has an allowed <c>Origin</c>: only then does a cookie count as a credential.</summary>
    bool HasAllowedOrigin(HttpRequest request);
}

/// <summary>
/// Browser sessions: a browser cannot set an Authorization header on a WebSocket, and a page should not keep a
/// token in storage. <c>POST /session</c> signs in with a form and sets two HttpOnly cookies: the access token
/// (WebSocket handshakes accept it) and the session's refresh token (sent to <c>/session</c> only).
/// <c>POST /session/refresh</c> renews both from the cookie, so a reloaded page is still signed in;
/// <c>DELETE /session</c> ends the session.
/// </summary>
internal static class SessionEndpoints
{
    public static IEndpointRouteBuilder MapSessionEndpoints(this IEndpointRouteBuilder routes)
    {
        var session = routes.MapGroup("/session")
            .WithTags("Session")
            .AllowAnonymous()
            .WithNoStore()
            .DisableAntiforgery();
        session.MapPost("", SignInAsync)
            .AcceptsForm<SessionForm>()
            .WithSummary("Signs in with a form username and password; sets the HttpOnly session cookies")
            .RequireRateLimiting(TokenRateLimiting.PerClientPolicy);
        session.MapPost("/refresh", RefreshAsync)
            .WithSummary("Renews the session from its HttpOnly refresh cookie (refresh-token rotation): a reloaded page stays signed in")
            .RequireRateLimiting(TokenRateLimiting.PerClientPolicy);
        session.MapDelete("", SignOutAsync)
            .WithSummary("Ends the session: revokes its refresh token and clears both cookies");

        return routes;
    }

    private static async Task<Results<Ok<SessionResponse>, BadRequest<OAuthError>, TooManyRequestsResult, ProblemHttpResult>> SignInAsync(
        HttpContext context,
        ISignInOriginPolicy origins,
        TokenGrants grants,
        RefreshTokenStore refreshTokens,
        IOptions<JwtOptions> jwt,
        CancellationToken cancellationToken)
    {
        if (ForeignOrigin(context, origins) is { } refused)
        {
            return refused;
        }

        var (form, error) = await CredentialForm.ReadAsync(context.Request, cancellationToken);
        if (error is not null
            || !CredentialForm.TryGetSingle(form!, "username", out var username, out error)
            || !CredentialForm.TryGetSingle(form!, "password", out var password, out error))
        {
            return TypedResults.BadRequest(error);
        }

        // The same limits and the same indistinguishable failure as the password grant of /token.
        var check = await grants.CheckPasswordAsync(username, password);
        if (check.RateLimited is { } lease)
        {
            return new TooManyRequestsResult(lease);
        }

        if (check.User is not { } user)
        {
            return TypedResults.BadRequest(check.Error);
        }

        // The browser's previous session (perhaps another user's) ends here, rather than living on in no cookie.
        await EndSessionAsync(context, refreshTokens, cancellationToken);
        return TypedResults.Ok(SetCookies(context, await grants.StartSessionAsync(user, cancellationToken), jwt.Value));
    }

    /// <summary>
    /// The refresh grant, with the token read from the refresh cookie. A refused one (invalid, expired, revoked,
    /// or reused: then its whole family dies, as on <c>/token</c>) clears both cookies.
    /// </summary>
    private static async Task<Results<Ok<SessionResponse>, BadRequest<OAuthError>, ProblemHttpResult>> RefreshAsync(
        HttpContext context,
        ISignInOriginPolicy origins,
        TokenGrants grants,
        IOptions<JwtOptions> jwt,
        CancellationToken cancellationToken)
    {
        // A cookie is a credential only with an allowed Origin (SPEC §3): a request without one is not a page's.
        if (!origins.HasAllowedOrigin(context.Request))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Origin not allowed",
                detail: "The session is renewed only for a page of an allowed origin (the Origin header).");
        }

        if (!context.Request.Cookies.TryGetValue(SessionCookie.RefreshName, out var refreshToken) || string.IsNullOrEmpty(refreshToken))
        {
            ClearCookies(context);
            return TypedResults.BadRequest(OAuthError.InvalidGrant("There is no session to renew; sign in with POST /session."));
        }

        if (await grants.RotateAsync(refreshToken, cancellationToken) is not { } tokens)
        {
            ClearCookies(context);
            return TypedResults.BadRequest(OAuthError.InvalidGrant("The session is invalid, expired or revoked; sign in again."));
        }

        return TypedResults.Ok(SetCookies(context, tokens, jwt.Value));
    }

    /// <summary>
    /// Revokes the session's refresh family (as <c>/token/revoke</c> does: the user's sockets close 4001) and clears
    /// both cookies; <c>204</c> whether or not there was a session.
    /// </summary>
    private static async Task<NoContent> SignOutAsync(HttpContext context, RefreshTokenStore refreshTokens, CancellationToken cancellationToken)
    {
        await EndSessionAsync(context, refreshTokens, cancellationToken);
        ClearCookies(context);
        return TypedResults.NoContent();
    }

    /// <summary>Revokes the family of the refresh cookie the request carries, if any.</summary>
    private static async Task EndSessionAsync(HttpContext context, RefreshTokenStore refreshTokens, CancellationToken cancellationToken)
    {
        if (context.Request.Cookies.TryGetValue(SessionCookie.RefreshName, out var refreshToken) && !string.IsNullOrEmpty(refreshToken))
        {
            await refreshTokens.RevokeAsync(refreshToken, cancellationToken);
        }
    }

    // A page on another site could otherwise sign the browser in as someone else, or read a renewed token.
    private static ProblemHttpResult? ForeignOrigin(HttpContext context, ISignInOriginPolicy origins) =>
        origins.Allows(context.Request)
            ? null
            : TypedResults.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Origin not allowed",
                detail: "Pages on this origin may not sign in here.");

    private static SessionResponse SetCookies(HttpContext context, TokenResponse tokens, JwtOptions jwt)
    {
        var cookies = context.Response.Cookies;
        cookies.Append(SessionCookie.Name, tokens.AccessToken, SessionCookie.Options(context.Request, TimeSpan.FromSeconds(tokens.ExpiresIn)));
        cookies.Append(SessionCookie.RefreshName, tokens.RefreshToken, SessionCookie.RefreshOptions(context.Request, jwt.RefreshTokenLifetime));
        return new SessionResponse(tokens.AccessToken, tokens.TokenType, tokens.ExpiresIn);
    }

    private static void ClearCookies(HttpContext context)
    {
        context.Response.Cookies.Delete(SessionCookie.Name, SessionCookie.Options(context.Request));
        context.Response.Cookies.Delete(SessionCookie.RefreshName, SessionCookie.RefreshOptions(context.Request));
    }
}

using System.Text.Json.Serialization;
using Company.RealtimeApp1.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Auth;

/// <summary>The answer to <c>POST /session</c>: the cookie is HttpOnly, so this is how a page learns when to sign in again.</summary>
public sealed record SessionResponse([property: JsonPropertyName("expires_in")] long ExpiresIn);

/// <summary>
/// Which pages may sign a browser in (<c>POST /session</c>): a page on another site could otherwise post
/// its own credentials and sign the browser in as someone else. The app answers with the same
/// allow-list its WebSocket handshakes use.
/// </summary>
public interface ISignInOriginPolicy
{
    /// <summary>True when the request has no <c>Origin</c> (not a browser) or an allowed one.</summary>
    bool Allows(HttpRequest request);
}

/// <summary>
/// A browser cannot set an Authorization header on a WebSocket; it can sign in for an HttpOnly session
/// cookie that handshakes accept (<c>POST /session</c>, <c>DELETE /session</c>).
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
            .WithSummary("Signs in with a form username and password; sets the HttpOnly session cookie WebSocket handshakes accept")
            .RequireRateLimiting(TokenRateLimiting.PerClientPolicy);
        session.MapDelete("", SignOut)
            .WithSummary("Clears the session cookie");

        return routes;
    }

    private static async Task<Results<Ok<SessionResponse>, BadRequest<OAuthError>, TooManyRequestsResult, ProblemHttpResult>> SignInAsync(
        HttpContext context,
        ISignInOriginPolicy origins,
        TokenGrants grants,
        UserManager<User> users,
        AccessTokenIssuer accessTokens,
        CancellationToken cancellationToken)
    {
        // A page on another site could otherwise post its own credentials and sign the browser in as someone else.
        if (!origins.Allows(context.Request))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Origin not allowed",
                detail: "Pages on this origin may not sign in here.");
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

        var accessToken = accessTokens.Issue(user, await users.GetRolesAsync(user));
        context.Response.Cookies.Append(SessionCookie.Name, accessToken.Value, SessionCookie.Options(context.Request, accessToken.Lifetime));
        return TypedResults.Ok(new SessionResponse((long)accessToken.Lifetime.TotalSeconds));
    }

    /// <summary>
    /// Stops the browser from sending the token. The token itself stays valid until it expires, as
    /// every access token does; changing the password ends it at once.
    /// </summary>
    private static NoContent SignOut(HttpContext context)
    {
        context.Response.Cookies.Delete(SessionCookie.Name, SessionCookie.Options(context.Request));
        return TypedResults.NoContent();
    }
}

using System.Security.Claims;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Company.RealtimeApp1.Realtime;
using Company.RealtimeApp1.Users;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Auth;

/// <summary>A single-use ticket for <c>?ticket=</c> on a WebSocket URL.</summary>
public sealed record TicketResponse(
    [property: JsonPropertyName("ticket")] string Ticket,
    [property: JsonPropertyName("expires_in")] int ExpiresIn);

/// <summary>The answer to <c>POST /session</c>: the cookie is HttpOnly, so this is how a page learns when to sign in again.</summary>
public sealed record SessionResponse([property: JsonPropertyName("expires_in")] long ExpiresIn);

/// <summary>
/// Two ways for a browser, which cannot set an Authorization header on a WebSocket, to authenticate one:
/// exchange its bearer token for a short-lived ticket to put in the URL (<c>POST /ws/ticket</c>), or
/// sign in for an HttpOnly session cookie (<c>POST /session</c>, <c>DELETE /session</c>).
/// </summary>
internal static class BrowserCredentialEndpoints
{
    public static IEndpointRouteBuilder MapBrowserCredentialEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/ws/ticket", IssueTicketAsync)
            .WithTags("WebSockets")
            .WithSummary("A single-use ticket for ?ticket= on a WebSocket URL, valid for WebSockets:TicketSeconds")
            .WithNoStore()
            .RequireAuthorization();

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

    private static async Task<Results<Ok<TicketResponse>, UnauthorizedHttpResult, TooManyRequestsResult>> IssueTicketAsync(
        HttpContext context,
        IWebSocketTicketStore tickets,
        TicketRateLimiter rateLimiter,
        IOptionsMonitor<RealtimeOptions> options,
        CancellationToken cancellationToken)
    {
        // The ticket stands for the very token that authenticated this request: on an HTTP endpoint, the
        // Authorization header's (JwtBearer does not keep it: SaveToken is off).
        var accessToken = HandshakeCredentials.ReadBearerToken(context.Request.Headers.Authorization.ToString());
        if (string.IsNullOrEmpty(accessToken))
        {
            return TypedResults.Unauthorized();
        }

        // Redeemed tickets free their slot at once, so the cap alone would let a client mint them without end.
        var userId = Guid.Parse(context.User.FindFirstValue(TokenClaims.Subject)!);
        using var lease = rateLimiter.Acquire(userId);
        if (!lease.IsAcquired)
        {
            return new TooManyRequestsResult(lease);
        }

        var settings = options.CurrentValue;
        var issue = await tickets.IssueAsync(
            userId, accessToken, TimeSpan.FromSeconds(settings.TicketSeconds), settings.MaxTicketsPerUser, cancellationToken);
        return issue.Ticket is { } ticket
            ? TypedResults.Ok(new TicketResponse(ticket, settings.TicketSeconds))
            : new TooManyRequestsResult(issue.RetryAfter);
    }

    private static async Task<Results<Ok<SessionResponse>, BadRequest<OAuthError>, TooManyRequestsResult, ProblemHttpResult>> SignInAsync(
        HttpContext context,
        WebSocketOriginPolicy origins,
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

/// <summary>How many tickets one user is issued per minute (<c>WebSockets:TicketsPerMinute</c>), on this instance.</summary>
internal sealed class TicketRateLimiter(IOptions<RealtimeOptions> options) : IDisposable
{
    // Idle partitions are dropped by the limiter itself, so one entry per active user is all it keeps.
    private readonly PartitionedRateLimiter<Guid> _limiter = PartitionedRateLimiter.Create<Guid, Guid>(
        userId => RateLimitPartition.GetTokenBucketLimiter(userId, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.Value.TicketsPerMinute,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1) / options.Value.TicketsPerMinute,
            QueueLimit = 0,
        }));

    public RateLimitLease Acquire(Guid userId) => _limiter.AttemptAcquire(userId);

    public void Dispose() => _limiter.Dispose();
}

using System.Globalization;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>A single-use ticket for <c>?ticket=</c> on a WebSocket URL.</summary>
public sealed record TicketResponse(
    [property: JsonPropertyName("ticket")] string Ticket,
    [property: JsonPropertyName("expires_in")] int ExpiresIn);

/// <summary>
/// <c>POST /ws/ticket</c>: a browser cannot set an Authorization header on a WebSocket, so it exchanges
/// its bearer token for a short-lived, single-use ticket to put in the URL instead of the token.
/// </summary>
internal static class WebSocketTicketEndpoint
{
    public static IEndpointRouteBuilder MapWebSocketTickets(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/ws/ticket", IssueAsync)
            .WithTags("WebSockets")
            .WithSummary("A single-use ticket for ?ticket= on a WebSocket URL, valid for WebSockets:TicketSeconds")
            .RequireAuthorization();
        return routes;
    }

    private static async Task<Results<Ok<TicketResponse>, UnauthorizedHttpResult, TooManyTicketsResult, ProblemHttpResult>> IssueAsync(
        HttpContext context,
        IWebSocketTicketStore tickets,
        TicketRateLimiter rateLimiter,
        IOptionsMonitor<RealtimeOptions> options,
        CancellationToken cancellationToken)
    {
        // The answer carries a credential: never cached (RFC 6749 §5.1 asks the same of tokens).
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.Pragma = "no-cache";

        // The ticket stands for the very token that authenticated this request: on an HTTP endpoint, the
        // Authorization header's (JwtBearer does not keep it: SaveToken is off).
        var accessToken = HandshakeCredentials.ReadBearerToken(context.Request.Headers.Authorization.ToString());
        var userId = ConnectionIdentity.From(context.User).UserId;
        if (string.IsNullOrEmpty(accessToken) || userId == Guid.Empty)
        {
            return TypedResults.Unauthorized();
        }

        // Redeemed tickets free their slot at once, so the cap alone would let a client mint them without end.
        using var lease = await rateLimiter.AcquireAsync(userId, cancellationToken);
        if (!lease.IsAcquired)
        {
            return new TooManyTicketsResult(lease.TryGetMetadata(MetadataName.RetryAfter, out var delay) ? delay : null);
        }

        var settings = options.CurrentValue;
        TicketIssue issue;
        try
        {
            issue = await tickets.IssueAsync(
                userId, accessToken, TimeSpan.FromSeconds(settings.TicketSeconds), settings.MaxTicketsPerUser, cancellationToken);
        }
        catch (TicketStoreUnavailableException)
        {
            context.Response.Headers.RetryAfter = TicketStoreUnavailableException.RetryAfterSeconds;
            return TypedResults.Problem(
                statusCode: StatusCodes.Status503ServiceUnavailable,
                detail: "Tickets are unavailable for a moment: retry, or connect with the access token.");
        }

        return issue.Ticket is { } ticket
            ? TypedResults.Ok(new TicketResponse(ticket, settings.TicketSeconds))
            : new TooManyTicketsResult(issue.RetryAfter);
    }
}

/// <summary>
/// How many tickets one user is issued per minute (<c>WebSockets:TicketsPerMinute</c>): on this instance, or, with
/// Redis, on all of them together (<see cref="IRateLimitStore"/>).
/// </summary>
internal sealed class TicketRateLimiter(IRateLimitStore store, IOptions<RealtimeOptions> options) : IDisposable
{
    // Idle partitions are dropped by the limiter itself, so one entry per active user is all it keeps.
    private readonly PartitionedRateLimiter<Guid> _limiter = PartitionedRateLimiter.Create<Guid, Guid>(
        userId => RateLimitPartition.Get(userId, user => store.CreateTokenBucket("tickets", user.ToString("N"), new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.Value.TicketsPerMinute,
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1) / options.Value.TicketsPerMinute,
            QueueLimit = 0,
        })));

    public ValueTask<RateLimitLease> AcquireAsync(Guid userId, CancellationToken cancellationToken) =>
        _limiter.AcquireAsync(userId, 1, cancellationToken);

    public void Dispose() => _limiter.Dispose();
}

/// <summary><c>429</c> with <c>Retry-After</c> and the same JSON error body as the app's other rate limits.</summary>
internal sealed class TooManyTicketsResult(TimeSpan? retryAfter) : IResult
{
    private static readonly TooManyTicketsError Body = new("too_many_requests", "Too many requests; retry after the time in the Retry-After header.");

    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        if (retryAfter is { } delay)
        {
            httpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(delay.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        return httpContext.Response.WriteAsJsonAsync(Body);
    }

    private sealed record TooManyTicketsError(
        [property: JsonPropertyName("error")] string Error,
        [property: JsonPropertyName("error_description")] string Description);
}

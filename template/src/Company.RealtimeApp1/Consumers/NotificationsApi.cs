using System.Security.Claims;
using System.Text.Json;
using Company.RealtimeApp1.Auth;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Users;
using Company.RealtimeApp1.WebSockets;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Company.RealtimeApp1.Consumers;

public sealed record SendNotificationRequest(Guid? UserId, string? Title, string? Body, JsonElement? Data);

public sealed record AcceptedId(long Id);

public sealed record StoredNotification(long Id, string Title, string Body, JsonElement? Data, DateTimeOffset CreatedAt, DateTimeOffset? ReadAt);

internal static class NotificationsApi
{
    private const int DefaultPageSize = 50;
    private const int MaxPageSize = 200;

    // Compiled once rather than looked up in EF's query cache on every invalid send.
    private static readonly Func<AppDbContext, Guid, CancellationToken, Task<bool>> UserExists =
        EF.CompileAsyncQuery((AppDbContext db, Guid userId, CancellationToken _) => db.Users.Any(u => u.Id == userId && u.UserName != null));

    public static IEndpointRouteBuilder MapNotificationsApi(this IEndpointRouteBuilder routes)
    {
        var notifications = routes.MapGroup("/api/notifications").WithTags("Notifications").RequireAuthorization();
        notifications.MapPost("", SendAsync).RequireAuthorization(policy => policy.RequireRole(Role.Admin))
            .Accepts<SendNotificationRequest>("application/json")
            .WithSummary("Stores a notification for a user, then delivers it to their sockets; 413 when its message would exceed WebSockets:MaxMessageBytes");
        notifications.MapGet("", ListAsync).WithSummary("The caller's stored notifications, in ascending id");
        notifications.MapPost("/{id:long}/read", MarkReadAsync).WithSummary("Marks one of the caller's notifications read");
        return routes;
    }

    private static async Task<Results<Accepted<AcceptedId>, ValidationProblem, JsonHttpResult<MessageTooLargeError>, ProblemHttpResult>> SendAsync(
        HttpRequest httpRequest, AppDbContext db, UserNotifications notifications, PublishedMessageLimit limit, CancellationToken cancellationToken)
    {
        // Read here rather than bound by the framework, which would buffer a body of any size first.
        var body = await limit.ReadJsonAsync<SendNotificationRequest>(httpRequest, cancellationToken);
        if (body.TooLarge is { } tooLarge)
        {
            return tooLarge;
        }

        if (body.Value is not { } request)
        {
            return body.Invalid!;
        }

        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Title) || request.Title.Length > 200)
        {
            errors["title"] = ["A title of 1 to 200 characters is required."];
        }

        if (request.Body is null || request.Body.Length > 4000)
        {
            errors["body"] = ["A body of at most 4000 characters is required."];
        }

        // The recipient is checked by the insert itself (its foreign key): a valid send costs no query of its
        // own. An invalid one is checked here, so that its answer names every error at once.
        if (request.UserId is not { } userId || (errors.Count > 0 && !await UserExists(db, userId, cancellationToken)))
        {
            errors["userId"] = [UnknownUser];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        try
        {
            var id = await notifications.NotifyUserAsync(request.UserId!.Value, request.Title!, request.Body!, request.Data, cancellationToken);
            return TypedResults.Accepted((string?)null, new AcceptedId(id));
        }
        catch (MessageTooLargeException exception)
        {
            return PublishedMessageLimit.TooLarge(exception);
        }
        catch (Exception exception) when (DatabaseErrors.IsMissingReference(exception))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["userId"] = [UnknownUser] });
        }
    }

    private const string UnknownUser = "No user has this id.";

    private static async Task<Results<Ok<List<StoredNotification>>, ValidationProblem>> ListAsync(
        ClaimsPrincipal user, AppDbContext db, long? since, int? limit, CancellationToken cancellationToken)
    {
        if (limit is < 1 or > MaxPageSize || since < 0)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["limit"] = [$"limit is 1 to {MaxPageSize}; since is 0 or more."],
            });
        }

        var userId = CallerId(user);
        var stored = await db.Set<Notification>().AsNoTracking()
            .Where(n => n.UserId == userId && n.Id > (since ?? 0))
            .OrderBy(n => n.Id)
            .Take(limit ?? DefaultPageSize)
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(stored.Select(n => new StoredNotification(
            n.Id, n.Title, n.Body, StoredMessage.DataFromText(n.Data), StoredMessage.Utc(n.CreatedAt),
            n.ReadAt is { } readAt ? StoredMessage.Utc(readAt) : null)).ToList());
    }

    private static async Task<Results<NoContent, NotFound>> MarkReadAsync(
        long id, ClaimsPrincipal user, AppDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var userId = CallerId(user);
        var now = time.GetUtcNow().UtcDateTime;
        // Someone else's notification is answered like a missing one: ids reveal nothing.
        var updated = await db.Set<Notification>()
            .Where(n => n.Id == id && n.UserId == userId)
            .ExecuteUpdateAsync(n => n.SetProperty(x => x.ReadAt, x => x.ReadAt ?? now), cancellationToken);
        return updated == 1 ? TypedResults.NoContent() : TypedResults.NotFound();
    }

    private static Guid CallerId(ClaimsPrincipal user) => Guid.Parse(user.FindFirstValue(TokenClaims.Subject)!);
}

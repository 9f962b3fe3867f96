using System.ComponentModel.DataAnnotations;
using System.Security.Claims;
using System.Text.Json;
using Company.RealtimeApp1.Auth;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Diagnostics;
using Company.RealtimeApp1.Users;
using Company.RealtimeApp1.WebSockets;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Validation;

namespace Company.RealtimeApp1.Consumers;

[ValidatableType]
public sealed record SendNotificationRequest(
    Guid? UserId,
    [property: Required(ErrorMessage = SendNotificationRequest.TitleRule), StringLength(200, ErrorMessage = SendNotificationRequest.TitleRule)] string? Title,
    [property: Required(AllowEmptyStrings = true, ErrorMessage = SendNotificationRequest.BodyRule), StringLength(4000, ErrorMessage = SendNotificationRequest.BodyRule)] string? Body,
    JsonElement? Data)
{
    private const string TitleRule = "A title of 1 to 200 characters is required.";
    private const string BodyRule = "A body of at most 4000 characters is required.";
}

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
        notifications.MapGet("", ListAsync).ProducesValidationProblem().WithSummary("The caller's stored notifications, in ascending id");
        notifications.MapPost("/{id:long}/read", MarkReadAsync).WithSummary("Marks one of the caller's notifications read");
        return routes;
    }

    private static async Task<Results<Accepted<AcceptedId>, ValidationProblem, JsonHttpResult<MessageTooLargeError>, ProblemHttpResult>> SendAsync(
        HttpRequest httpRequest, AppDbContext db, UserNotifications notifications, PublishedMessageLimit limit, RequestValidator validator, CancellationToken cancellationToken)
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

        var errors = await validator.ValidateAsync(request, cancellationToken);

        // The stream log holds any stream's messages, with no key to a user: the recipient is checked here.
        if (request.UserId is not { } userId || !await UserExists(db, userId, cancellationToken))
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
    }

    private const string UnknownUser = "No user has this id.";

    private static async Task<Ok<List<StoredNotification>>> ListAsync(
        ClaimsPrincipal user,
        AppDbContext db,
        [Range(typeof(long), "0", "9223372036854775807", ErrorMessage = "{0} is 0 or more.")] long? since,
        [Range(1, MaxPageSize, ErrorMessage = "{0} is {1} to {2}.")] int? limit,
        CancellationToken cancellationToken)
    {
        var userId = CallerId(user);
        var stream = UserNotifications.StreamOf(userId).Name;
        var page = await db.Set<StreamLogEntry>().AsNoTracking()
            .Where(e => e.Stream == stream && e.Position > (since ?? 0))
            .OrderBy(e => e.Position)
            .Take(limit ?? DefaultPageSize)
            .Select(e => new
            {
                e.Position,
                e.Content,
                e.CreatedAt,
                ReadAt = db.Set<NotificationRead>().Where(r => r.UserId == userId && r.Position == e.Position).Select(r => (DateTime?)r.ReadAt).FirstOrDefault(),
            })
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(page.Select(n =>
        {
            var content = JsonSerializer.Deserialize(n.Content, ConsumersJsonContext.Default.NotificationContent)!;
            return new StoredNotification(
                n.Position, content.Title, content.Body, content.Data, StoredMessage.Utc(n.CreatedAt), n.ReadAt is { } readAt ? StoredMessage.Utc(readAt) : null);
        }).ToList());
    }

    private static async Task<Results<NoContent, NotFound>> MarkReadAsync(
        long id, ClaimsPrincipal user, AppDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var userId = CallerId(user);
        var stream = UserNotifications.StreamOf(userId).Name;
        // Someone else's notification is answered like a missing one: ids reveal nothing.
        if (!await db.Set<StreamLogEntry>().AnyAsync(e => e.Stream == stream && e.Position == id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        if (!await db.Set<NotificationRead>().AnyAsync(r => r.UserId == userId && r.Position == id, cancellationToken))
        {
            db.Add(new NotificationRead { UserId = userId, Position = id, ReadAt = time.GetUtcNow().UtcDateTime });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                // Marked read at the same moment by another request: read is read.
            }
        }

        return TypedResults.NoContent();
    }

    private static Guid CallerId(ClaimsPrincipal user) => Guid.Parse(user.FindFirstValue(TokenClaims.Subject)!);
}

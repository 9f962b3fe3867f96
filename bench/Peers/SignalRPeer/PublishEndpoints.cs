using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;

namespace SignalRPeer;

public sealed record PublishEventRequest(string? Type, JsonElement? Data);

public sealed record SendNotificationRequest(Guid? UserId, string? Title, string? Body, JsonElement? Data);

public sealed record AcceptedId(long Id);

public sealed record EventSender(Guid Id, string Username);

/// <summary>The same fields as the subject's <c>org.event</c>; SignalR's envelope names the kind (<c>orgEvent</c>).</summary>
public sealed record OrganizationEventMessage(long Id, Guid OrgId, string Event, JsonElement? Data, EventSender Sender, DateTimeOffset CreatedAt);

/// <summary>The same fields as the subject's <c>notification</c>.</summary>
public sealed record NotificationMessage(long Id, string Title, string Body, JsonElement? Data, DateTimeOffset CreatedAt);

/// <summary>
/// The publish paths, shaped like the subject's (<c>POST /api/orgs/{orgId}/events</c> by a member,
/// <c>POST /api/notifications</c> by an admin) with the same bodies, but nothing is stored: the message goes
/// straight to <see cref="IHubContext{THub}"/>.
/// </summary>
internal static class PublishEndpoints
{
    public static IEndpointRouteBuilder MapPublishing(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/publish/org/{orgId:guid}", PublishEventAsync).RequireAuthorization();
        routes.MapPost("/publish/notifications", SendNotificationAsync).RequireAuthorization(policy => policy.RequireRole("admin"));
        return routes;
    }

    private static async Task<IResult> PublishEventAsync(
        Guid orgId, PublishEventRequest request, ClaimsPrincipal user, OrganizationMembers members, EventIds ids,
        IHubContext<RealtimeHub> hub, TimeProvider time)
    {
        var userId = user.FindFirstValue(ClaimTypes.NameIdentifier);
        if (!members.IsMember(orgId, userId))
        {
            return TypedResults.Forbid();
        }

        if (string.IsNullOrWhiteSpace(request.Type))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["type"] = ["A type is required."] });
        }

        var message = new OrganizationEventMessage(
            ids.Next(), orgId, request.Type, request.Data,
            new EventSender(Guid.Parse(userId!), user.FindFirstValue("name") ?? ""), time.GetUtcNow());
        await hub.Clients.Group(RealtimeHub.GroupFor(orgId)).SendAsync("orgEvent", message);
        return TypedResults.Accepted((string?)null, new AcceptedId(message.Id));
    }

    private static async Task<IResult> SendNotificationAsync(
        SendNotificationRequest request, EventIds ids, IHubContext<RealtimeHub> hub, TimeProvider time)
    {
        if (request.UserId is not { } userId || string.IsNullOrWhiteSpace(request.Title) || request.Body is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["userId"] = ["userId, title and body are required."] });
        }

        var message = new NotificationMessage(ids.Next(), request.Title, request.Body, request.Data, time.GetUtcNow());
        await hub.Clients.User(userId.ToString()).SendAsync("notification", message);
        return TypedResults.Accepted((string?)null, new AcceptedId(message.Id));
    }
}

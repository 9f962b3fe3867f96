using System.Security.Claims;
using System.Text.Json;
using Company.RealtimeApp1.Auth;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.WebSockets;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Company.RealtimeApp1.Consumers;

public sealed record PublishEventRequest(string? Type, JsonElement? Data);

internal static class OrganizationEventsApi
{
    public static IEndpointRouteBuilder MapOrganizationEventsApi(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/api/orgs/{orgId}/events", PublishAsync).WithTags("Organizations")
            .RequireAuthorization(OrganizationPolicies.Member)
            .Accepts<PublishEventRequest>("application/json")
            .WithSummary("Stores an event, then broadcasts it to the organization's sockets; 413 when its message would exceed WebSockets:MaxMessageBytes");
        return routes;
    }

    private static async Task<Results<Accepted<AcceptedId>, ValidationProblem, JsonHttpResult<MessageTooLargeError>, ProblemHttpResult>> PublishAsync(
        Guid orgId, HttpRequest httpRequest, ClaimsPrincipal user, OrganizationEvents events, PublishedMessageLimit limit, CancellationToken cancellationToken)
    {
        // Read here rather than bound by the framework, which would buffer a body of any size first.
        var body = await limit.ReadJsonAsync<PublishEventRequest>(httpRequest, cancellationToken);
        if (body.TooLarge is { } tooLarge)
        {
            return tooLarge;
        }

        if (body.Value is not { } request)
        {
            return body.Invalid!;
        }

        if (!OrganizationEvents.IsEventName(request.Type))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["type"] = [$"A type of 1 to {OrganizationEvents.MaxEventNameLength} characters is required."],
            });
        }

        var sender = new EventSender(Guid.Parse(user.FindFirstValue(TokenClaims.Subject)!), user.Identity?.Name ?? "");
        try
        {
            var id = await events.PublishOrgEventAsync(orgId, sender, request.Type!, request.Data, cancellationToken);
            return TypedResults.Accepted((string?)null, new AcceptedId(id));
        }
        catch (MessageTooLargeException exception)
        {
            return PublishedMessageLimit.TooLarge(exception);
        }
    }
}

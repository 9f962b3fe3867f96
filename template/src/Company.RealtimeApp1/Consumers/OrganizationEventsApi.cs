using System.Security.Claims;
using System.Text.Json;
using Company.RealtimeApp1.Auth;
using Company.RealtimeApp1.Diagnostics;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.WebSockets;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Validation;

namespace Company.RealtimeApp1.Consumers;

[ValidatableType]
public sealed record PublishEventRequest([property: EventName] string? Type, JsonElement? Data);

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
        Guid orgId, HttpRequest httpRequest, ClaimsPrincipal user, OrganizationEvents events, PublishedMessageLimit limit, RequestValidator validator, CancellationToken cancellationToken)
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

        if (await validator.ValidateAsync(request, cancellationToken) is { Count: > 0 } errors)
        {
            return TypedResults.ValidationProblem(errors);
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

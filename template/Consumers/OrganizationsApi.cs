using System.Security.Claims;
using System.Text.Json;
using Company.RealtimeApp1.Auth;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.Realtime;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Company.RealtimeApp1.Consumers;

public sealed record PublishEventRequest(string? Type, JsonElement? Data);

public sealed record AddMemberRequest(Guid? UserId, string? Role);

public sealed record MemberResponse(Guid UserId, string Role);

internal static class OrganizationsApi
{
    public static IEndpointRouteBuilder MapOrganizationsApi(this IEndpointRouteBuilder routes)
    {
        var organization = routes.MapGroup("/api/orgs/{orgId}").WithTags("Organizations");
        organization.MapPost("/events", PublishAsync).RequireAuthorization(OrganizationPolicies.Member)
            .Accepts<PublishEventRequest>("application/json")
            .WithSummary("Stores an event, then broadcasts it to the organization's sockets; 413 when its message would exceed WebSockets:MaxMessageBytes");
        organization.MapPost("/members", AddMemberAsync).RequireAuthorization(OrganizationPolicies.Admin)
            .WithSummary("Adds a member, or changes a member's role");
        organization.MapDelete("/members/{userId:guid}", RemoveMemberAsync).RequireAuthorization(OrganizationPolicies.Admin)
            .WithSummary("Removes a member; their sockets on this organization close with 4003");
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

        if (string.IsNullOrWhiteSpace(request.Type) || request.Type.Length > OrganizationEventRules.MaxTypeLength)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["type"] = [$"A type of 1 to {OrganizationEventRules.MaxTypeLength} characters is required."],
            });
        }

        var sender = new EventSender(Guid.Parse(user.FindFirstValue(TokenClaims.Subject)!), user.Identity?.Name ?? "");
        try
        {
            var id = await events.PublishOrgEventAsync(orgId, sender, request.Type, request.Data, cancellationToken);
            return TypedResults.Accepted((string?)null, new AcceptedId(id));
        }
        catch (MessageTooLargeException exception)
        {
            return PublishedMessageLimit.TooLarge(exception);
        }
    }

    private static async Task<Results<Ok<MemberResponse>, ValidationProblem>> AddMemberAsync(
        Guid orgId, AddMemberRequest request, AppDbContext db, CancellationToken cancellationToken)
    {
        if (!OrganizationRoleNames.TryParse(request.Role, out var role))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["role"] = [$"role is '{OrganizationRoleNames.Member}' or '{OrganizationRoleNames.Admin}'."],
            });
        }

        if (request.UserId is not { } userId || !await db.Users.AnyAsync(u => u.Id == userId, cancellationToken))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["userId"] = ["No user has this id."] });
        }

        var membership = await db.Memberships.SingleOrDefaultAsync(m => m.OrganizationId == orgId && m.UserId == userId, cancellationToken);
        if (membership is null)
        {
            db.Memberships.Add(new Membership { OrganizationId = orgId, UserId = userId, Role = role });
        }
        else
        {
            membership.Role = role;
        }

        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new MemberResponse(userId, role.ToApiName()));
    }

    private static async Task<Results<NoContent, NotFound>> RemoveMemberAsync(
        Guid orgId, Guid userId, OrganizationAdministration organizations, ConnectionRevocations revocations, CancellationToken cancellationToken)
    {
        if (!await organizations.RemoveMemberAsync(orgId, userId))
        {
            return TypedResults.NotFound();
        }

        // The handshake checked membership once; sockets opened before the removal are closed here.
        await revocations.RevokeStreamAsync(userId, OrganizationEvents.StreamFor(orgId), "membership removed", cancellationToken);
        return TypedResults.NoContent();
    }
}

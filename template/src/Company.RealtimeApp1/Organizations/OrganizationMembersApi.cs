using Microsoft.AspNetCore.Http.HttpResults;

namespace Company.RealtimeApp1.Organizations;

public sealed record AddMemberRequest(Guid? UserId, string? Role);

public sealed record MemberResponse(Guid UserId, string Role);

internal static class OrganizationMembersApi
{
    public static IEndpointRouteBuilder MapOrganizationMembersApi(this IEndpointRouteBuilder routes)
    {
        var members = routes.MapGroup("/api/orgs/{orgId}/members").WithTags("Organizations")
            .RequireAuthorization(OrganizationPolicies.Admin);
        members.MapPost("", AddMemberAsync).WithSummary("Adds a member, or changes a member's role");
        members.MapDelete("/{userId:guid}", RemoveMemberAsync)
            .WithSummary("Removes a member; their sockets on this organization's streams close with 4003");
        return routes;
    }

    private static async Task<Results<Ok<MemberResponse>, ValidationProblem>> AddMemberAsync(
        Guid orgId, AddMemberRequest request, OrganizationAdministration organizations, CancellationToken cancellationToken)
    {
        if (!OrganizationRoleNames.TryParse(request.Role, out var role))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["role"] = [$"role is '{OrganizationRoleNames.Member}' or '{OrganizationRoleNames.Admin}'."],
            });
        }

        var set = request.UserId is { } userId
            ? await organizations.SetMembershipAsync(orgId, userId, role, cancellationToken)
            : AdministrationResult<Membership>.Fail("No user has this id.");
        return set.Value is { } membership
            ? TypedResults.Ok(new MemberResponse(membership.UserId, role.ToApiName()))
            : TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["userId"] = [set.Error!] });
    }

    private static async Task<Results<NoContent, NotFound>> RemoveMemberAsync(
        Guid orgId, Guid userId, OrganizationAdministration organizations, CancellationToken cancellationToken) =>
        await organizations.RemoveMemberAsync(orgId, userId, cancellationToken) ? TypedResults.NoContent() : TypedResults.NotFound();
}

using System.ComponentModel.DataAnnotations;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Company.RealtimeApp1.Organizations;

public sealed record AddMemberRequest(Guid? UserId, [property: OrganizationRoleName] string? Role);

/// <summary>A role as the API names it (<see cref="OrganizationRoleNames.TryParse"/>), or none, which is a member.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class OrganizationRoleNameAttribute()
    : ValidationAttribute($"role is '{OrganizationRoleNames.Member}' or '{OrganizationRoleNames.Admin}'.")
{
    public override bool IsValid(object? value) => value is null or string && OrganizationRoleNames.TryParse(value as string, out _);
}

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
            // AddValidation answered 400 for [OrganizationRoleName] before this ran; never store an undefined role.
            throw new System.Diagnostics.UnreachableException("An unknown role got past validation.");
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

using Company.RealtimeApp1.Auth;
using Company.RealtimeApp1.Data;
using Microsoft.AspNetCore.Authorization;
using Microsoft.EntityFrameworkCore;

namespace Company.RealtimeApp1.Organizations;

/// <summary>
/// The caller must belong to the organization named by the <c>orgId</c> route value, with at least
/// <see cref="MinimumRole"/>. Checked against the database at every WebSocket handshake, so a removed
/// member is refused at once. On HTTP requests that need plain membership (publishing an event), a
/// membership found within the last 30 seconds is taken as read (<see cref="AccessCache"/>; removing the
/// member forgets it).
/// </summary>
public sealed class OrganizationMembershipRequirement(OrganizationRole minimumRole) : IAuthorizationRequirement
{
    public const string RouteValue = "orgId";

    public OrganizationRole MinimumRole { get; } = minimumRole;
}

/// <remarks>
/// The context is borrowed for the check only: a WebSocket request lives as long as its socket, and a
/// scoped context would stay leased for all that time.
/// </remarks>
internal sealed class OrganizationMembershipHandler(IServiceScopeFactory scopes, AccessCache cache) : AuthorizationHandler<OrganizationMembershipRequirement>
{
    public const string NotAMember = "You are not a member of this organization.";
    public const string NotAnAdmin = "Only an admin of this organization may do this.";

    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, OrganizationMembershipRequirement requirement)
    {
        if (context.Resource is not HttpContext httpContext
            || !Guid.TryParse(httpContext.GetRouteValue(OrganizationMembershipRequirement.RouteValue) as string, out var organizationId)
            || organizationId == Guid.Empty
            || !Guid.TryParse(context.User.FindFirst(TokenClaims.Subject)?.Value, out var userId))
        {
            // An unknown or malformed organization id is refused like a non-member's: nothing to probe.
            context.Fail(new AuthorizationFailureReason(this, NotAMember));
            return;
        }

        var membershipWillDo = requirement.MinimumRole == OrganizationRole.Member;
        if (membershipWillDo && !httpContext.WebSockets.IsWebSocketRequest && cache.IsRememberedMember(userId, organizationId))
        {
            context.Succeed(requirement);
            return;
        }

        var generation = cache.Generation;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var role = await db.Memberships.AsNoTracking()
            .Where(m => m.OrganizationId == organizationId && m.UserId == userId)
            .Select(m => (OrganizationRole?)m.Role)
            .SingleOrDefaultAsync(httpContext.RequestAborted);
        // Only membership itself is remembered: a demotion from admin withdraws nothing a member has, so
        // no remembered answer can outlive the role it was given for.
        if (membershipWillDo && role is not null)
        {
            cache.RememberMember(userId, organizationId, generation);
        }

        if (role >= requirement.MinimumRole)
        {
            context.Succeed(requirement);
        }
        else
        {
            context.Fail(new AuthorizationFailureReason(this, role is null ? NotAMember : NotAnAdmin));
        }
    }
}

public static class OrganizationPolicies
{
    public const string Member = "OrganizationMember";
    public const string Admin = "OrganizationAdmin";

    public static AuthorizationBuilder AddOrganizationPolicies(this AuthorizationBuilder authorization) => authorization
        .AddPolicy(Member, policy => policy.RequireAuthenticatedUser()
            .AddRequirements(new OrganizationMembershipRequirement(OrganizationRole.Member)))
        .AddPolicy(Admin, policy => policy.RequireAuthenticatedUser()
            .AddRequirements(new OrganizationMembershipRequirement(OrganizationRole.Admin)));
}

using System.Security.Claims;
using Company.RealtimeApp1.Auth;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Organizations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Company.RealtimeApp1.Users;

public sealed record MeResponse(Guid Id, string Username, IReadOnlyList<string> Roles, IReadOnlyList<MyOrganization> Organizations);

public sealed record MyOrganization(Guid Id, string Slug, string Name, string Role);

internal static class MeEndpoint
{
    public static IEndpointRouteBuilder MapMe(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/me", GetMeAsync)
            .WithTags("Users")
            .WithSummary("The signed-in user, their roles and their organizations")
            .RequireAuthorization();
        return routes;
    }

    private static async Task<Results<Ok<MeResponse>, UnauthorizedHttpResult>> GetMeAsync(
        ClaimsPrincipal principal, AppDbContext db, CancellationToken cancellationToken)
    {
        if (!Guid.TryParse(principal.FindFirstValue(TokenClaims.Subject), out var userId))
        {
            return TypedResults.Unauthorized();
        }

        var user = await db.Users.AsNoTracking()
            .Where(u => u.Id == userId)
            .Select(u => new { u.Id, u.UserName })
            .SingleOrDefaultAsync(cancellationToken);
        if (user is null)
        {
            return TypedResults.Unauthorized();
        }

        var roles = await db.UserRoles.Where(ur => ur.UserId == userId)
            .Join(db.Roles, ur => ur.RoleId, r => r.Id, (_, r) => r.Name!)
            .OrderBy(name => name)
            .ToListAsync(cancellationToken);
        var organizations = await db.Memberships.AsNoTracking()
            .Where(m => m.UserId == userId)
            .OrderBy(m => m.Organization!.Slug)
            .Select(m => new { m.Organization!.Id, m.Organization.Slug, m.Organization.Name, m.Role })
            .ToListAsync(cancellationToken);

        return TypedResults.Ok(new MeResponse(
            user.Id,
            user.UserName ?? "",
            roles,
            [.. organizations.Select(o => new MyOrganization(o.Id, o.Slug, o.Name, o.Role.ToApiName()))]));
    }
}

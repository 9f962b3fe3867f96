using System.Security.Claims;
using Company.RealtimeApp1.Auth;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Organizations;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Company.RealtimeApp1.Users;

public sealed record MeResponse(Guid Id, string Username, IReadOnlyList<string> Roles, IReadOnlyList<MyOrganization> Organizations);

public sealed record MyOrganization(Guid Id, string Slug, string Name, string Role);

/// <summary><c>/me</c>: the signed-in user's own account.</summary>
internal static class MeEndpoint
{
    public static IEndpointRouteBuilder MapMe(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/me", GetMeAsync)
            .WithTags("Users")
            .WithSummary("The signed-in user, their roles and their organizations")
            .RequireAuthorization();
        routes.MapPost("/me/password", ChangePasswordAsync)
            .AcceptsForm<PasswordChangeForm>()
            .WithTags("Users")
            .WithSummary("Changes the signed-in user's password (form current_password, new_password) and answers a fresh token pair; every other session ends")
            .RequireAuthorization()
            .RequireRateLimiting(TokenRateLimiting.PerClientPolicy)
            .WithNoStore()
            .DisableAntiforgery();
        return routes;
    }

    /// <summary>
    /// The new security stamp ends every session of the user, the caller's included; the caller, having just proved
    /// the password, gets a fresh pair bound to the new stamp, as the password grant would give it, and stays signed in.
    /// </summary>
    private static async Task<Results<Ok<TokenResponse>, BadRequest<OAuthError>, TooManyRequestsResult, UnauthorizedHttpResult>> ChangePasswordAsync(
        HttpContext context, ClaimsPrincipal principal, TokenGrants grants, RevokingUserManager users, CancellationToken cancellationToken)
    {
        var (form, error) = await CredentialForm.ReadAsync(context.Request, cancellationToken);
        if (error is not null
            || !CredentialForm.TryGetSingle(form!, "current_password", out var currentPassword, out error)
            || !CredentialForm.TryGetSingle(form!, "new_password", out var newPassword, out error))
        {
            return TypedResults.BadRequest(error);
        }

        if (principal.FindFirstValue(TokenClaims.Subject) is not { } userId
            || await users.FindByIdAsync(userId) is not { UserName: { } userName })
        {
            return TypedResults.Unauthorized();
        }

        // The current password is checked as every password sign-in is: size, per-username rate, lockout.
        var check = await grants.CheckPasswordAsync(userName, currentPassword);
        if (check.RateLimited is { } lease)
        {
            return new TooManyRequestsResult(lease);
        }

        if (check.User is not { } user)
        {
            return TypedResults.BadRequest(check.Error!.Error == "invalid_grant"
                ? OAuthError.InvalidGrant("The current password is incorrect.")
                : check.Error);
        }

        var changed = await users.ReplacePasswordAsync(user, newPassword);
        return changed.Succeeded
            // Started after the change has revoked the user's families, so it is the one that lives on.
            ? TypedResults.Ok(await grants.StartSessionAsync(user, cancellationToken))
            : TypedResults.BadRequest(OAuthError.InvalidRequest(string.Join(" ", changed.Errors.Select(e => e.Description))));
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

using Company.RealtimeApp1.Auth;
using Company.RealtimeApp1.Data;
using Microsoft.EntityFrameworkCore;

namespace Company.RealtimeApp1.Organizations;

/// <summary>
/// The question every organization-scoped consumer asks at its handshake: is this user a member of this
/// organization, and which organization is it? Answered from the database, and remembered for the moment
/// right after (<see cref="AccessCache"/>: removing the member forgets it), when the socket's join re-checks.
/// </summary>
/// <remarks>The context is borrowed for the question only: a WebSocket request lives as long as its socket.</remarks>
public sealed class OrganizationMemberships(IServiceScopeFactory scopes, AccessCache cache)
{
    /// <summary>The organization, when <paramref name="userId"/> is one of its members; otherwise null.</summary>
    public async Task<Organization?> FindForMemberAsync(Guid userId, Guid organizationId, CancellationToken cancellationToken)
    {
        var generation = cache.Generation;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var organization = await db.Memberships.AsNoTracking()
            .Where(m => m.OrganizationId == organizationId && m.UserId == userId)
            .Select(m => m.Organization)
            .SingleOrDefaultAsync(cancellationToken);
        if (organization is not null)
        {
            cache.RememberMember(userId, organizationId, generation);
        }

        return organization;
    }
}

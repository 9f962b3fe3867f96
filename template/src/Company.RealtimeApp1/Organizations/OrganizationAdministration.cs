using System.Text.RegularExpressions;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Users;
using Company.RealtimeApp1.WebSockets;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Company.RealtimeApp1.Organizations;

/// <summary>The outcome of an administrative change: the entity, or why it could not be made.</summary>
public readonly record struct AdministrationResult<T>(T? Value, string? Error)
{
    public static AdministrationResult<T> Ok(T value) => new(value, null);

    public static AdministrationResult<T> Fail(string error) => new(default, error);
}

/// <summary>One organization as the <c>orgs list</c> command shows it.</summary>
internal sealed record OrganizationSummary(string Slug, string Name, IReadOnlyList<MemberSummary> Members);

internal sealed record MemberSummary(string UserName, OrganizationRole Role);

/// <summary>Creates organizations and manages their members; used by the seed, the <c>orgs</c> command and the API.</summary>
internal sealed partial class OrganizationAdministration(AppDbContext db, UserManager<User> users, ConnectionRevocations revocations)
{
    public async Task<AdministrationResult<Organization>> CreateOrganizationAsync(string slug, string? name)
    {
        if (!SlugPattern().IsMatch(slug))
        {
            return AdministrationResult<Organization>.Fail(
                "A slug is 1 to 64 lowercase letters, digits and dashes, starting with a letter or digit.");
        }

        if (await db.Organizations.AnyAsync(o => o.Slug == slug))
        {
            return AdministrationResult<Organization>.Fail($"An organization '{slug}' already exists.");
        }

        var organization = new Organization { Slug = slug, Name = string.IsNullOrWhiteSpace(name) ? slug : name.Trim() };
        db.Organizations.Add(organization);
        await db.SaveChangesAsync();
        return AdministrationResult<Organization>.Ok(organization);
    }

    /// <summary>Creates the organization unless one with that slug exists.</summary>
    public async Task<AdministrationResult<Organization>> EnsureOrganizationAsync(string slug, string? name) =>
        await db.Organizations.SingleOrDefaultAsync(o => o.Slug == slug) is { } existing
            ? AdministrationResult<Organization>.Ok(existing)
            : await CreateOrganizationAsync(slug, name);

    /// <summary>Adds the user to the organization, or changes the role of an existing member.</summary>
    public async Task<AdministrationResult<Membership>> SetMembershipAsync(string slug, string userName, OrganizationRole role)
    {
        var (organizationId, userId, error) = await FindAsync(slug, userName);
        return error is null
            ? await SetMembershipAsync(organizationId, userId, role)
            : AdministrationResult<Membership>.Fail(error);
    }

    /// <summary>
    /// Adds the user to the organization unless they are a member already. For the Development seed, which runs at
    /// every start and every command: a membership that exists keeps the role an administrator gave it.
    /// </summary>
    public async Task<AdministrationResult<Membership>> EnsureMembershipAsync(string slug, string userName, OrganizationRole role)
    {
        var (organizationId, userId, error) = await FindAsync(slug, userName);
        if (error is not null)
        {
            return AdministrationResult<Membership>.Fail(error);
        }

        if (await db.Memberships.SingleOrDefaultAsync(m => m.OrganizationId == organizationId && m.UserId == userId) is { } existing)
        {
            return AdministrationResult<Membership>.Ok(existing);
        }

        // Added, never updated: an instance that lost the race to add it gets the key's refusal, not another's role.
        var membership = new Membership { OrganizationId = organizationId, UserId = userId, Role = role };
        db.Memberships.Add(membership);
        await db.SaveChangesAsync();
        return AdministrationResult<Membership>.Ok(membership);
    }

    /// <summary>The ids of the organization and the user these names stand for, or why there is none.</summary>
    private async Task<(Guid OrganizationId, Guid UserId, string? Error)> FindAsync(string slug, string userName)
    {
        var organization = await db.Organizations.AsNoTracking().SingleOrDefaultAsync(o => o.Slug == slug);
        if (organization is null)
        {
            return (default, default, $"There is no organization '{slug}'.");
        }

        return await users.FindByNameAsync(userName) is { } user
            ? (organization.Id, user.Id, null)
            : (default, default, $"There is no user '{userName}'.");
    }

    /// <summary>Adds the user to the organization, or changes the role of an existing member; both by id.</summary>
    public async Task<AdministrationResult<Membership>> SetMembershipAsync(
        Guid organizationId, Guid userId, OrganizationRole role, CancellationToken cancellationToken = default)
    {
        if (!await db.Users.AnyAsync(u => u.Id == userId && u.UserName != null, cancellationToken))
        {
            return AdministrationResult<Membership>.Fail("No user has this id.");
        }

        var membership = await db.Memberships.SingleOrDefaultAsync(m => m.OrganizationId == organizationId && m.UserId == userId, cancellationToken);
        if (membership is null)
        {
            membership = new Membership { OrganizationId = organizationId, UserId = userId, Role = role };
            db.Memberships.Add(membership);
        }
        else
        {
            membership.Role = role;
        }

        await db.SaveChangesAsync(cancellationToken);
        return AdministrationResult<Membership>.Ok(membership);
    }

    /// <summary>
    /// Removes the user from the organization and closes their sockets on its streams (4003), on every instance
    /// the bus reaches; the others notice at their next re-check. False when they were not a member.
    /// </summary>
    public async Task<bool> RemoveMemberAsync(Guid organizationId, Guid userId, CancellationToken cancellationToken = default)
    {
        var removed = await db.Memberships
            .Where(m => m.OrganizationId == organizationId && m.UserId == userId)
            .ExecuteDeleteAsync(cancellationToken) == 1;
        if (removed)
        {
            // The handshake checked membership once; sockets opened before the removal are closed here. The
            // removal is committed, so the revocation goes out even if the caller gives up now.
            await revocations.RevokeStreamAsync(
                userId, OrganizationStream.For(organizationId), OrganizationStreamAuthority.Withdrawn, CancellationToken.None);
        }

        return removed;
    }

    /// <summary>Removes the member named by slug and user name; the removed membership, or why there was none.</summary>
    public async Task<AdministrationResult<Membership>> RemoveMemberAsync(string slug, string userName, CancellationToken cancellationToken = default)
    {
        var membership = await db.Memberships.AsNoTracking()
            .Where(m => m.Organization!.Slug == slug && m.User!.NormalizedUserName == users.NormalizeName(userName))
            .SingleOrDefaultAsync(cancellationToken);
        return membership is not null && await RemoveMemberAsync(membership.OrganizationId, membership.UserId, cancellationToken)
            ? AdministrationResult<Membership>.Ok(membership)
            : AdministrationResult<Membership>.Fail($"'{userName}' is not a member of '{slug}'.");
    }

    /// <summary>Every organization with its members, by slug.</summary>
    public async Task<IReadOnlyList<OrganizationSummary>> ListAsync()
    {
        var organizations = await db.Organizations.AsNoTracking().OrderBy(o => o.Slug).ToListAsync();
        var members = await db.Memberships.AsNoTracking()
            .OrderBy(m => m.User!.UserName)
            .Select(m => new { m.OrganizationId, Member = new MemberSummary(m.User!.UserName ?? "", m.Role) })
            .ToListAsync();
        var byOrganization = members.ToLookup(m => m.OrganizationId, m => m.Member);
        return [.. organizations.Select(o => new OrganizationSummary(o.Slug, o.Name, [.. byOrganization[o.Id]]))];
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,63}$")]
    private static partial Regex SlugPattern();
}

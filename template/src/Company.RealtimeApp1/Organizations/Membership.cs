using Company.RealtimeApp1.Users;

namespace Company.RealtimeApp1.Organizations;

public enum OrganizationRole
{
    Member = 0,
    Admin = 1,
}

/// <summary>A user's place in an organization.</summary>
public sealed class Membership
{
    public Guid OrganizationId { get; init; }

    public Organization? Organization { get; init; }

    public Guid UserId { get; init; }

    public User? User { get; init; }

    public OrganizationRole Role { get; set; }
}

public static class OrganizationRoleNames
{
    public const string Member = "member";
    public const string Admin = "admin";

    public static string ToApiName(this OrganizationRole role) => role == OrganizationRole.Admin ? Admin : Member;

    public static bool TryParse(string? name, out OrganizationRole role)
    {
        role = name?.ToLowerInvariant() switch
        {
            Admin => OrganizationRole.Admin,
            Member or null or "" => OrganizationRole.Member,
            _ => (OrganizationRole)(-1),
        };
        return Enum.IsDefined(role);
    }
}

using Microsoft.AspNetCore.Identity;

namespace Company.RealtimeApp1.Users;

/// <summary>An application-wide role such as <c>admin</c>; organization roles live on <see cref="Organizations.Membership"/>.</summary>
public sealed class Role : IdentityRole<Guid>
{
    public const string Admin = "admin";

    public Role()
    {
        Id = Guid.CreateVersion7();
    }

    public Role(string name) : this()
    {
        Name = name;
    }
}

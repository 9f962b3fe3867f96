using Microsoft.AspNetCore.Identity;

namespace Company.RealtimeApp1.Users;

/// <summary>An account that can sign in. Identity supplies the name, password hash, lockout and security stamp.</summary>
public sealed class User : IdentityUser<Guid>
{
    public User()
    {
        Id = Guid.CreateVersion7();
        SecurityStamp = Guid.NewGuid().ToString("N");
    }

    /// <summary>A disabled user cannot obtain or use tokens; unlike lockout it does not expire.</summary>
    public bool IsDisabled { get; set; }
}

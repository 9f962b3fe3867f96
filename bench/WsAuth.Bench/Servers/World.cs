using System.Globalization;

namespace WsAuth.Bench.Servers;

/// <summary>A bench user: seeded into the subject, signed in through its <c>/token</c>, used against every server.</summary>
internal sealed class BenchUser(int index, string name, string password)
{
    public int Index { get; } = index;

    public string Name { get; } = name;

    public string Password { get; } = password;

    public Guid Id { get; set; }

    /// <summary>An access token the subject issued; the SignalR peer validates the same token.</summary>
    public string Token { get; set; } = "";

    /// <summary>The organization the user belongs to (<c>Index % organizations</c>).</summary>
    public BenchOrg? Org { get; set; }

    public string IdText => Id.ToString("D", CultureInfo.InvariantCulture);
}

internal sealed class BenchOrg(int index, string slug)
{
    public int Index { get; } = index;

    public string Slug { get; } = slug;

    public Guid Id { get; set; }

    /// <summary>The organization's admin (seeded); it adds the other members and publishes over HTTP.</summary>
    public required BenchUser Admin { get; init; }

    public List<BenchUser> Members { get; } = [];

    public string IdText => Id.ToString("D", CultureInfo.InvariantCulture);
}

/// <summary>The users and organizations every server is measured with, and the subject's token settings.</summary>
internal sealed class World
{
    public required IReadOnlyList<BenchUser> Users { get; init; }

    public required IReadOnlyList<BenchOrg> Orgs { get; init; }

    /// <summary>The seeded <c>alice</c>, who has the <c>admin</c> role the notification API requires.</summary>
    public required BenchUser Admin { get; init; }

    public required string SigningKey { get; init; }

    public required string Issuer { get; init; }

    public required string Audience { get; init; }

    public DateTimeOffset TokensIssuedAt { get; set; }

    public static World Create(int users, int organizations, string signingKey, string issuer, string audience)
    {
        var benchUsers = Enumerable.Range(0, users)
            .Select(i => new BenchUser(i, $"bench{i}", $"bench-password-{i:D5}"))
            .ToList();
        var orgs = Enumerable.Range(0, organizations)
            .Select(j => new BenchOrg(j, $"bench-org-{j}") { Admin = benchUsers[j] })
            .ToList();
        foreach (var user in benchUsers)
        {
            user.Org = orgs[user.Index % organizations];
            user.Org.Members.Add(user);
        }

        return new World
        {
            Users = benchUsers,
            Orgs = orgs,
            Admin = new BenchUser(-1, "alice", "alice-dev-password"),
            SigningKey = signingKey,
            Issuer = issuer,
            Audience = audience,
        };
    }
}

namespace Company.RealtimeApp1.Organizations;

public sealed class Organization
{
    public Guid Id { get; init; } = Guid.CreateVersion7();

    /// <summary>The short, URL-safe name, unique across organizations (for example <c>acme</c>).</summary>
    public required string Slug { get; set; }

    public required string Name { get; set; }

    public List<Membership> Members { get; } = [];
}

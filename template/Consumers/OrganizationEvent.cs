namespace Company.RealtimeApp1.Consumers;

/// <summary>An event in an organization, stored before it is broadcast. Each organization keeps a bounded history.</summary>
public sealed class OrganizationEvent
{
    /// <summary>Increases with every event, and so along each organization's stream.</summary>
    public long Id { get; init; }

    public Guid OrganizationId { get; init; }

    /// <summary>What happened, in the sender's words (for example <c>deploy.started</c>).</summary>
    public required string Type { get; init; }

    /// <summary>Free-form JSON the sender attached, stored as text.</summary>
    public string? Data { get; init; }

    public Guid SenderId { get; init; }

    public required string SenderName { get; init; }

    public DateTime CreatedAt { get; init; }
}

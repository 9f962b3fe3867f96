namespace Company.RealtimeApp1.Consumers;

/// <summary>A message to one user, stored before it is sent so that a reconnecting client can catch up.</summary>
public sealed class Notification
{
    /// <summary>Increases with every notification, and so along each user's stream.</summary>
    public long Id { get; init; }

    public Guid UserId { get; init; }

    public required string Title { get; init; }

    public required string Body { get; init; }

    /// <summary>Free-form JSON the sender attached, stored as text.</summary>
    public string? Data { get; init; }

    public DateTime CreatedAt { get; init; }

    public DateTime? ReadAt { get; set; }
}

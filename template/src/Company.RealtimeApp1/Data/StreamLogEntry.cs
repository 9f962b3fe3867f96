namespace Company.RealtimeApp1.Data;

/// <summary>
/// One stored message of a stream, in the log every stored stream shares: a consumer's stored messages need
/// no table of their own. Keyed by its stream's name and its position there (1, 2, 3, … with no gap).
/// </summary>
public sealed class StreamLogEntry
{
    /// <summary>The stream's <see cref="WebSockets.StreamId.Name"/>.</summary>
    public required string Stream { get; init; }

    /// <summary>The message's position in its stream: its <c>id</c> on the wire.</summary>
    public long Position { get; init; }

    /// <summary>The message's <c>type</c> (<c>announcement</c>, say).</summary>
    public required string Type { get; init; }

    /// <summary>The message's other members, as the JSON object they were serialized to.</summary>
    public required string Content { get; init; }

    /// <summary>The user who sent it, if a user did.</summary>
    public Guid? SenderId { get; init; }

    /// <summary>UTC; read back without a kind (<see cref="StoredMessage.Utc"/>).</summary>
    public DateTime CreatedAt { get; init; }
}

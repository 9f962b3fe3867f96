namespace Company.RealtimeApp1.Data;

/// <summary>The newest position of a stream: the row its next message's position is taken from, in the transaction that stores it.</summary>
public sealed class StreamHead
{
    public required string Stream { get; init; }

    public long Head { get; set; }
}

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// One message on a stream, already serialized as the JSON text frame every recipient gets: a broadcast
/// is serialized once, whatever the number of recipients. A stored message's <see cref="Id"/> is its
/// position in its stream's log (1, 2, 3, … with no gap, whichever instance stored it), so a subscriber
/// sees a gap and a reconnecting client resumes after the last id it saw; a message that is not stored
/// has <see cref="StreamPublisher.NotStored"/>.
/// </summary>
public sealed record StreamMessage(StreamId Stream, long Id, ReadOnlyMemory<byte> Frame)
{
    /// <summary>The connection that sent a message that is not stored, which does not get it back ("to the others").</summary>
    public string? ExceptConnection { get; init; }
}

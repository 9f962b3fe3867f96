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

/// <summary>A stream's stored log, for clients that resume with <c>since</c> and for sockets that see a gap.</summary>
public interface IStreamHistory
{
    /// <summary>
    /// The stored messages of <paramref name="stream"/> after position <paramref name="after"/>, in position order,
    /// read at one instant: the log is contiguous, so the first one is <c>after + 1</c> unless older messages were
    /// trimmed away, and a gap between <paramref name="after"/> and the first one is exactly what is missing.
    /// </summary>
    IAsyncEnumerable<StreamMessage> ReadAsync(StreamId stream, long after, CancellationToken cancellationToken);

    /// <summary>The position of <paramref name="stream"/>'s newest stored message; 0 when it has none.</summary>
    ValueTask<long> HeadAsync(StreamId stream, CancellationToken cancellationToken);
}

/// <summary>For streams that store nothing: a resuming client catches up on nothing and is told so.</summary>
public sealed class NoHistory : IStreamHistory
{
    public static NoHistory Instance { get; } = new();

    public IAsyncEnumerable<StreamMessage> ReadAsync(StreamId stream, long after, CancellationToken cancellationToken) =>
        AsyncEnumerable.Empty<StreamMessage>();

    public ValueTask<long> HeadAsync(StreamId stream, CancellationToken cancellationToken) => ValueTask.FromResult(0L);
}

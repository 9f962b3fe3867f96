namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// One message on a stream, already serialized as the JSON text frame every recipient gets: a broadcast
/// is serialized once, whatever the number of recipients. <see cref="Id"/> increases along the stream
/// and lets a reconnecting client resume after the last id it saw.
/// </summary>
public sealed record StreamMessage(string Stream, long Id, ReadOnlyMemory<byte> Frame);

/// <summary>A stream's stored past, for clients that resume with <c>since</c>.</summary>
public interface IStreamHistory
{
    /// <summary>The stored messages of <paramref name="stream"/> with an id above <paramref name="since"/>, in id order.</summary>
    IAsyncEnumerable<StreamMessage> ReadSinceAsync(string stream, long since, CancellationToken cancellationToken);

    /// <summary>False when messages after <paramref name="since"/> were already dropped from the history.</summary>
    ValueTask<bool> HasEverythingSinceAsync(string stream, long since, CancellationToken cancellationToken);

    /// <summary>The id of <paramref name="stream"/>'s newest stored message; 0 when it has none.</summary>
    ValueTask<long> LatestIdAsync(string stream, CancellationToken cancellationToken);
}

/// <summary>For streams that store nothing: a resuming client catches up on nothing and is told so.</summary>
public sealed class NoHistory : IStreamHistory
{
    public static NoHistory Instance { get; } = new();

    public IAsyncEnumerable<StreamMessage> ReadSinceAsync(string stream, long since, CancellationToken cancellationToken) =>
        AsyncEnumerable.Empty<StreamMessage>();

    public ValueTask<bool> HasEverythingSinceAsync(string stream, long since, CancellationToken cancellationToken) =>
        ValueTask.FromResult(false);

    public ValueTask<long> LatestIdAsync(string stream, CancellationToken cancellationToken) => ValueTask.FromResult(0L);
}

namespace Company.RealtimeApp1.WebSockets;

/// <summary>For streams that store nothing: a resuming client catches up on nothing and is told so.</summary>
public sealed class NoHistory : IStreamHistory
{
    public static NoHistory Instance { get; } = new();

    public IAsyncEnumerable<StreamMessage> ReadAsync(StreamId stream, long after, CancellationToken cancellationToken) =>
        AsyncEnumerable.Empty<StreamMessage>();

    public ValueTask<long> HeadAsync(StreamId stream, CancellationToken cancellationToken) => ValueTask.FromResult(0L);
}

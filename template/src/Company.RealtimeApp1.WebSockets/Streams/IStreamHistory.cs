namespace Company.RealtimeApp1.WebSockets;

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

    /// <summary>The heads of <paramref name="streams"/> (0 for one with no message); a store answers them in a few queries.</summary>
    async ValueTask<IReadOnlyDictionary<StreamId, long>> HeadsAsync(IReadOnlyCollection<StreamId> streams, CancellationToken cancellationToken)
    {
        var heads = new Dictionary<StreamId, long>(streams.Count);
        foreach (var stream in streams)
        {
            heads[stream] = await HeadAsync(stream, cancellationToken);
        }

        return heads;
    }
}

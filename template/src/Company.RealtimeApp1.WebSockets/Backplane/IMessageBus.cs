namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// Carries stream messages between instances. Subscriptions are counted: an instance subscribes to a
/// stream once, when its first local socket joins, and leaves when its last one does, so the bus sees
/// one subscription per active stream per instance, never one per socket. What arrives is handed to
/// the local <see cref="StreamHub"/>.
/// </summary>
public interface IMessageBus
{
    ValueTask PublishAsync(StreamMessage message, CancellationToken cancellationToken = default);

    ValueTask SubscribeAsync(StreamId stream, CancellationToken cancellationToken = default);

    ValueTask UnsubscribeAsync(StreamId stream, CancellationToken cancellationToken = default);

    /// <summary>
    /// True for a bus that can lose messages for a while (an outage of a shared server) and that carries
    /// several instances' messages, which may arrive out of order: a socket then reads where its stream's log
    /// stands when it joins, so that it sees any gap after it and fills it from the store. False for a bus whose
    /// messages arrive as they were stored, each once: a socket starts where the first one it receives stands.
    /// </summary>
    bool MayLoseMessages => false;
}

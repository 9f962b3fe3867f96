namespace Company.RealtimeApp1.WebSockets;

/// <summary>One instance: publishing is delivering to the local hub.</summary>
internal sealed class InMemoryMessageBus(StreamHub hub) : IMessageBus
{
    public ValueTask PublishAsync(StreamMessage message, CancellationToken cancellationToken = default)
    {
        hub.Deliver(message);
        return ValueTask.CompletedTask;
    }

    public ValueTask SubscribeAsync(StreamId stream, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

    public ValueTask UnsubscribeAsync(StreamId stream, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
}

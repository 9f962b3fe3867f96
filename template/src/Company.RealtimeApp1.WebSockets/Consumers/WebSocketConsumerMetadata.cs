namespace Company.RealtimeApp1.WebSockets;

/// <summary>The consumer a WebSocket endpoint runs: what the AsyncAPI document reads a channel's messages from.</summary>
internal sealed record WebSocketConsumerMetadata(Type ConsumerType);

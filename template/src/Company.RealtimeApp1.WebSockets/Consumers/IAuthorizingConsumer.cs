namespace Company.RealtimeApp1.WebSockets;

/// <summary>The realtime layer's side of <see cref="WebSocketConsumer{TResource}"/>.</summary>
internal interface IAuthorizingConsumer
{
    string ForbiddenDetail { get; }

    ValueTask<bool> AuthorizeAsync(ConsumerRequest request);
}

using System.Text.Json;
using Microsoft.AspNetCore.Routing;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// The application's side of a WebSocket endpoint: what to join when a client connects, what to do with
/// each message it sends, what to clean up when it leaves. One instance serves one connection, created
/// from the request's services. Messages arrive one at a time, in order.
/// </summary>
public abstract class WebSocketConsumer
{
    /// <summary>Called once the socket is accepted and the welcome sent: join streams here.</summary>
    public virtual ValueTask OnConnectedAsync(ConsumerContext context) => ValueTask.CompletedTask;

    /// <summary>
    /// Called for each client message whose <c>type</c> the realtime layer does not handle itself
    /// (<c>ping</c>, <c>resume</c>, <c>auth.refresh</c>). Return false for a type this consumer does not
    /// know (the client gets <c>unknown_type</c>); throw <see cref="InvalidMessageException"/> for a known
    /// type with a bad body (<c>invalid_message</c>).
    /// </summary>
    public virtual ValueTask<bool> OnMessageAsync(ConsumerContext context, IncomingMessage message) => ValueTask.FromResult(false);

    /// <summary>Called once when the connection has closed, whoever closed it.</summary>
    public virtual ValueTask OnDisconnectedAsync(ConsumerContext context) => ValueTask.CompletedTask;
}

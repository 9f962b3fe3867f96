using Microsoft.AspNetCore.Authorization;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// The handshake's check of a <see cref="WebSocketConsumer{TResource}"/>'s access rule, as an authorization
/// requirement of its endpoint, so that a refusal takes the failure contract's path like any other
/// (<see cref="WebSocketAuthorizationResultHandler"/>). The consumer it creates to ask is the one that serves
/// the connection: it keeps what its rule found.
/// </summary>
internal sealed class ConsumerAccessRequirement(Func<IServiceProvider, WebSocketConsumer> create) : IAuthorizationRequirement
{
    private static readonly object ItemsKey = new();

    public WebSocketConsumer Create(IServiceProvider services) => create(services);

    /// <summary>The consumer authorized for this request, if its endpoint has a rule.</summary>
    public static WebSocketConsumer? Authorized(HttpContext context) =>
        context.Items.TryGetValue(ItemsKey, out var consumer) ? consumer as WebSocketConsumer : null;

    public static void Remember(HttpContext context, WebSocketConsumer consumer) => context.Items[ItemsKey] = consumer;
}

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// Marks an endpoint as a WebSocket endpoint: credentials may come from the query string, a ticket, a
/// subprotocol or the session cookie; the Origin is checked; refusals follow the failure contract.
/// </summary>
public sealed class WebSocketEndpointMetadata
{
    public static WebSocketEndpointMetadata Instance { get; } = new();
}

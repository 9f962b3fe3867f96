using System.Net.WebSockets;

namespace Company.RealtimeApp1.WebSockets;

internal static class WebSocketHandshake
{
    /// <summary>The subprotocol this server speaks. A client offering <c>bearer.&lt;token&gt;</c> must offer this too.</summary>
    public const string SubProtocol = "wsauth.v1";

    /// <summary>
    /// Accepts the upgrade, selecting <see cref="SubProtocol"/> when the client offered it. The
    /// <c>bearer.*</c> entry a client may offer is never selected, so the token is never echoed.
    /// </summary>
    public static Task<WebSocket> AcceptAsync(HttpContext context, RealtimeOptions options) =>
        context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = context.WebSockets.WebSocketRequestedProtocols.Contains(SubProtocol) ? SubProtocol : null,
            KeepAliveInterval = options.KeepAliveInterval,
            KeepAliveTimeout = options.KeepAliveTimeout,
        });
}

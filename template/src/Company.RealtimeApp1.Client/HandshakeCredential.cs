namespace Company.RealtimeApp1.Client;

/// <summary>How a <see cref="RealtimeClient"/> presents its access token at a WebSocket handshake (SPEC §3 "Credentials").</summary>
public enum HandshakeCredential
{
    /// <summary>
    /// A single-use ticket from <c>POST /ws/ticket</c> in <c>?ticket=</c>: the token itself never travels in a URL
    /// (which proxies log) nor in a header a platform's WebSocket may not let an app set.
    /// </summary>
    Ticket,

    /// <summary><c>Authorization: Bearer …</c> on the handshake request: one request fewer than a ticket, where the platform allows the header.</summary>
    AuthorizationHeader,

    /// <summary>The subprotocols <c>wsauth.v1</c> and <c>bearer.…</c>; the server selects <c>wsauth.v1</c> and never echoes the token.</summary>
    SubProtocol,
}

using System.Net.WebSockets;

namespace Company.RealtimeApp1.Client;

/// <summary>How a <see cref="RealtimeClient"/> opens its sockets and reconnects them.</summary>
public sealed class RealtimeClientOptions
{
    /// <summary>How the access token is presented at the handshake. Default: <see cref="HandshakeCredential.Ticket"/>.</summary>
    public HandshakeCredential Credential { get; set; } = HandshakeCredential.Ticket;

    /// <summary>The first reconnect delay, before jitter. Default: 500 ms.</summary>
    public TimeSpan MinReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The largest reconnect delay, before jitter. Default: 15 s. The delay doubles from
    /// <see cref="MinReconnectDelay"/> with each attempt in a row, and each one waits a random time between half
    /// of it and all of it, so that clients a restart dropped together do not come back together.
    /// </summary>
    public TimeSpan MaxReconnectDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// Whether a reconnect asks for what was missed, with <c>?since=</c> the last stored message's id: the server
    /// sends every later stored message, in order, then the live stream. Default: true.
    /// </summary>
    public bool Resume { get; set; } = true;

    /// <summary>
    /// Makes each socket before the client sets its credential and connects it: the place for a proxy, client
    /// certificates, a keep-alive interval, or a test's count of handshakes. Default: a new <see cref="ClientWebSocket"/>.
    /// </summary>
    public Func<ClientWebSocket> CreateSocket { get; set; } = () => new ClientWebSocket();
}

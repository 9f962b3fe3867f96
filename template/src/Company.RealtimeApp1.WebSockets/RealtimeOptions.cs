using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>How a refused WebSocket handshake is reported.</summary>
public enum HandshakeRejection
{
    /// <summary>
    /// Accept, send one <c>{"type":"auth",...}</c> message and close with 4001 or 4003: a browser cannot
    /// read the HTTP status of a failed handshake, but it can read this.
    /// </summary>
    AuthMessage,

    /// <summary>Answer the handshake with a plain HTTP 401 or 403 and never upgrade.</summary>
    HttpStatus,
}

/// <summary>Bound from the <c>WebSockets</c> section: every limit and policy of the WebSocket endpoints.</summary>
public sealed class RealtimeOptions : IValidatableObject
{
    public const string SectionName = "WebSockets";

    /// <summary>Origins (exact matches, such as <c>https://app.example.com</c>) allowed besides the request's own.</summary>
    public List<string> AllowedOrigins { get; set; } = [];

    public HandshakeRejection RejectWith { get; set; } = HandshakeRejection.AuthMessage;

    /// <summary>
    /// The cookie a handshake accepts as its credential when it carries an allowed <c>Origin</c>: the one
    /// the app's sign-in for browsers sets. Empty: no cookie is accepted.
    /// </summary>
    public string SessionCookie { get; set; } = "";

    /// <summary>The largest client message, counted across fragments; larger ones close the socket with 1009.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>Sustained client messages per second; beyond it (and the burst) the socket closes with 4029.</summary>
    [Range(1, 100_000)]
    public int MessagesPerSecond { get; set; } = 20;

    [Range(1, 100_000)]
    public int MessageBurst { get; set; } = 40;

    /// <summary>Open sockets per user across all instances; one more closes with 4029.</summary>
    [Range(1, 10_000)]
    public int MaxConnectionsPerUser { get; set; } = 10;

    /// <summary>Messages waiting to be sent to one client; a client that lets more pile up is closed with 1008.</summary>
    [Range(1, 1_000_000)]
    public int OutboundQueueMessages { get; set; } = 1024;

    /// <summary>
    /// Bytes waiting to be sent to one client, the other bound on its outbound queue. At least
    /// <see cref="MaxMessageBytes"/>, the largest message that is ever stored and sent.
    /// </summary>
    [Range(1024, 1024 * 1024 * 1024)]
    public int OutboundQueueBytes { get; set; } = 4 * 1024 * 1024;

    /// <summary>How often the server pings an idle client.</summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long the server waits for the pong before aborting the socket.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long a close may take, whoever starts it. After its close frame the server keeps reading, and
    /// discarding, what the client still sends until the client's close frame arrives (so the client reads
    /// the close code rather than a reset connection); a client that has not answered, or has not read the
    /// frames queued before the close, when this passes is cut off. It also bounds a refused handshake's
    /// <c>auth</c> message and close.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan CloseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long before the access token expires the client is told to refresh it.</summary>
    public TimeSpan ExpiryWarning { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How often every open socket is re-checked against the database (its user still enabled with the
    /// same credentials, its memberships still held), in batches. Revocations close sockets at once; this
    /// bounds how long a change no revocation carried (a command run in another process, a hand-edited
    /// database) leaves a socket open.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RecheckInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a ticket from <c>POST /ws/ticket</c> stays usable.</summary>
    [Range(1, 600)]
    public int TicketSeconds { get; set; } = 30;

    /// <summary>
    /// Tickets one user may hold at once, neither redeemed nor expired; one more is <c>429</c> until one is
    /// redeemed or expires. The ticket store counts them, on every instance when the store is shared.
    /// </summary>
    [Range(1, 1000)]
    public int MaxTicketsPerUser { get; set; } = 10;

    /// <summary>
    /// Tickets one user may be issued per minute (a token bucket: this many at once, then one every
    /// 60/TicketsPerMinute seconds), redeemed or not; beyond it <c>429</c>. Counted per instance. At most
    /// 600: a partitioned limiter refills at most every 100 ms.
    /// </summary>
    [Range(1, 600)]
    public int TicketsPerMinute { get; set; } = 30;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // A stored message larger than an empty queue would close every subscriber, on every resume.
        if (OutboundQueueBytes < MaxMessageBytes)
        {
            yield return new ValidationResult(
                $"'{SectionName}:{nameof(OutboundQueueBytes)}' ({OutboundQueueBytes}) is smaller than '{SectionName}:{nameof(MaxMessageBytes)}' " +
                $"({MaxMessageBytes}): a message that large could be stored but never delivered. " +
                $"Make {nameof(OutboundQueueBytes)} at least {nameof(MaxMessageBytes)}.",
                [nameof(OutboundQueueBytes)]);
        }
    }
}

[OptionsValidator]
internal sealed partial class RealtimeOptionsValidator : IValidateOptions<RealtimeOptions>;

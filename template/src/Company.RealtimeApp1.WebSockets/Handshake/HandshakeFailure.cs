using Microsoft.IdentityModel.Tokens;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// Why a request was not authenticated, in the words of the WebSocket failure contract. The JwtBearer
/// events record it while the request is authenticated; when authorization then refuses a WebSocket
/// handshake, it becomes the <c>auth</c> message. A detail never repeats a credential.
/// </summary>
internal sealed record HandshakeFailure(string Error, string Detail)
{
    public const string MissingToken = "missing_token";
    public const string TemporarilyUnavailable = "temporarily_unavailable";
    public const string InvalidToken = "invalid_token";
    public const string TokenExpired = "token_expired";
    public const string Forbidden = "forbidden";

    public static HandshakeFailure NoCredential { get; } = new(MissingToken,
        "No credential was sent: use an Authorization header, ?access_token=, ?ticket=, the bearer.<token> subprotocol or the session cookie.");

    public static HandshakeFailure CookieWithoutOrigin { get; } = new(MissingToken,
        "The session cookie is accepted only with the Origin header of an allowed origin.");

    public static HandshakeFailure MoreThanOneCredential { get; } = new(InvalidToken,
        "Only one credential may be sent, and this request carried more than one.");

    public static HandshakeFailure SubProtocolWithoutVersion { get; } = new(InvalidToken,
        $"A bearer.<token> subprotocol must be offered together with {WebSocketHandshake.SubProtocol}.");

    public static HandshakeFailure UnknownTicket { get; } = new(InvalidToken,
        "The ticket is unknown, already used or expired.");

    public static HandshakeFailure Unknown { get; } = new(InvalidToken, "The credential was refused.");

    /// <summary>Not the client's fault: the shared ticket store cannot be reached (the ticket may be spent all the same: a redemption that timed out can still run).</summary>
    public static HandshakeFailure TicketStoreUnavailable { get; } = new(TemporarilyUnavailable,
        "Tickets cannot be checked for a moment: ask for a new ticket shortly, or connect with the access token.")
    {
        Status = StatusCodes.Status503ServiceUnavailable,
    };

    /// <summary>Not the client's fault: a consumer's access rule could not be answered (its database is down, say).</summary>
    public static HandshakeFailure AccessUnavailable { get; } = new(TemporarilyUnavailable,
        "Access to this endpoint cannot be checked for a moment: connect again shortly.")
    {
        Status = StatusCodes.Status503ServiceUnavailable,
    };

    /// <summary>The HTTP status the failure stands for: 401 unless the server, not the credential, failed.</summary>
    public int Status { get; private init; } = StatusCodes.Status401Unauthorized;

    private static readonly object ItemsKey = new();

    public static void Record(HttpContext context, HandshakeFailure failure) => context.Items[ItemsKey] = failure;

    public static HandshakeFailure? Find(HttpContext context) =>
        context.Items.TryGetValue(ItemsKey, out var failure) ? failure as HandshakeFailure : null;

    /// <summary>
    /// Names what was wrong with a token that failed validation. IdentityModel's own messages are not
    /// used: with PII logging on they may quote the token.
    /// </summary>
    public static HandshakeFailure FromValidationException(Exception exception) => Innermost(exception) switch
    {
        SecurityTokenExpiredException => new(TokenExpired, "The access token has expired."),
        SecurityTokenNotYetValidException => new(InvalidToken, "The access token is not valid yet."),
        SecurityTokenInvalidAudienceException => new(InvalidToken, "The access token was issued for another audience."),
        SecurityTokenInvalidIssuerException => new(InvalidToken, "The access token was issued by another issuer."),
        SecurityTokenInvalidAlgorithmException => new(InvalidToken, "The access token is signed with an algorithm this server does not accept."),
        SecurityTokenInvalidSignatureException => new(InvalidToken, "The access token's signature is not valid."),
        SecurityTokenMalformedException or ArgumentException => new(InvalidToken, "The access token is malformed."),
        _ => new(InvalidToken, "The access token is not valid."),
    };

    // JwtBearer wraps the failures of several token handlers in an AggregateException; we have one handler.
    private static Exception Innermost(Exception exception) =>
        exception is AggregateException { InnerExceptions: [var single] } ? Innermost(single) : exception;
}

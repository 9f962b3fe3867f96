using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// Finds the one credential of a WebSocket handshake, for JwtBearer's <c>OnMessageReceived</c>. A
/// browser cannot set an Authorization header on a WebSocket, so WebSocket endpoints also take a token in
/// the query string, a ticket from <c>POST /ws/ticket</c>, a <c>bearer.&lt;token&gt;</c> subprotocol, or
/// the session cookie (only with an allowed <c>Origin</c>). Everywhere else only the Authorization header
/// counts, and JwtBearer reads it itself.
/// </summary>
internal sealed class HandshakeCredentials(IWebSocketTicketStore tickets, WebSocketOriginPolicy origins, IOptions<RealtimeOptions> options)
{
    /// <summary>The subprotocol prefix that carries an access token; the server never selects it, so never echoes the token.</summary>
    public const string SubProtocolPrefix = "bearer.";

    internal const string TicketParameter = "ticket";

    internal static readonly string[] TokenParameters = ["access_token", "token"];

    private const string BearerPrefix = "Bearer ";

    public async Task ReadAsync(MessageReceivedContext context)
    {
        var httpContext = context.HttpContext;
        if (httpContext.GetEndpoint()?.Metadata.GetMetadata<WebSocketEndpointMetadata>() is null)
        {
            return;
        }

        var cookieAllowed = origins.HasAllowedOrigin(httpContext.Request);
        var sessionCookie = options.Value.SessionCookie;
        var presented = Collect(httpContext, cookieAllowed && sessionCookie.Length > 0 ? sessionCookie : null);
        if (presented.Count == 0)
        {
            // No result: authorization then challenges, and the failure contract reports missing_token.
            HandshakeFailure.Record(httpContext, !cookieAllowed && sessionCookie.Length > 0 && httpContext.Request.Cookies.ContainsKey(sessionCookie)
                ? HandshakeFailure.CookieWithoutOrigin
                : HandshakeFailure.NoCredential);
            return;
        }

        if (presented.Any(c => c.Source == CredentialSource.SubProtocol)
            && !httpContext.WebSockets.WebSocketRequestedProtocols.Contains(WebSocketHandshake.SubProtocol))
        {
            Refuse(context, HandshakeFailure.SubProtocolWithoutVersion);
            return;
        }

        // The same token sent twice (say, header and query string) is one credential; a ticket is never the same as a token.
        if (presented.DistinctBy(c => (c.Source == CredentialSource.Ticket, c.Value)).Skip(1).Any())
        {
            Refuse(context, HandshakeFailure.MoreThanOneCredential);
            return;
        }

        var credential = presented[0];
        if (credential.Source != CredentialSource.Ticket)
        {
            context.Token = credential.Value;
            return;
        }

        // From here the ticket's token is validated like any other: signature, lifetime, user.
        string? token;
        try
        {
            token = await tickets.RedeemAsync(credential.Value, httpContext.RequestAborted);
        }
        catch (TicketStoreUnavailableException)
        {
            Refuse(context, HandshakeFailure.TicketStoreUnavailable);
            return;
        }

        if (token is null)
        {
            Refuse(context, HandshakeFailure.UnknownTicket);
            return;
        }

        context.Token = token;
    }

    /// <summary>Every credential the request carries, in every place a WebSocket endpoint looks.</summary>
    private static List<PresentedCredential> Collect(HttpContext context, string? sessionCookie)
    {
        var request = context.Request;
        var presented = new List<PresentedCredential>();

        foreach (var header in request.Headers.Authorization)
        {
            Add(presented, CredentialSource.AuthorizationHeader, ReadBearerToken(header));
        }

        foreach (var parameter in TokenParameters)
        {
            foreach (var value in request.Query[parameter])
            {
                Add(presented, CredentialSource.QueryString, value);
            }
        }

        foreach (var value in request.Query[TicketParameter])
        {
            Add(presented, CredentialSource.Ticket, value);
        }

        foreach (var protocol in context.WebSockets.WebSocketRequestedProtocols)
        {
            if (protocol.StartsWith(SubProtocolPrefix, StringComparison.Ordinal))
            {
                Add(presented, CredentialSource.SubProtocol, protocol[SubProtocolPrefix.Length..]);
            }
        }

        if (sessionCookie is not null && request.Cookies.TryGetValue(sessionCookie, out var cookie))
        {
            Add(presented, CredentialSource.SessionCookie, cookie);
        }

        return presented;
    }

    /// <summary>The token of an <c>Authorization: Bearer</c> header, read as JwtBearer reads it; otherwise null.</summary>
    public static string? ReadBearerToken(string? header) =>
        header is not null && header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase)
            ? header[BearerPrefix.Length..].Trim()
            : null;

    private static void Add(List<PresentedCredential> presented, CredentialSource source, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            presented.Add(new PresentedCredential(source, value));
        }
    }

    private static void Refuse(MessageReceivedContext context, HandshakeFailure failure)
    {
        HandshakeFailure.Record(context.HttpContext, failure);
        context.Fail(failure.Detail);
    }
}

internal enum CredentialSource
{
    AuthorizationHeader,
    QueryString,
    Ticket,
    SubProtocol,
    SessionCookie,
}

internal readonly record struct PresentedCredential(CredentialSource Source, string Value);

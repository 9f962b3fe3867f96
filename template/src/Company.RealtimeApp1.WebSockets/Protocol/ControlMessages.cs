using System.Text.Json;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// The messages every endpoint understands, answered before a consumer sees anything: <c>ping</c>
/// (<c>pong</c>, echoing its <c>id</c>), <c>resume</c> and <c>auth.refresh</c>.
/// </summary>
internal sealed class ControlMessages(IConnectionTokenValidator accessTokens, ConnectionAuthorityChecks authority)
{
    public const string Ping = "ping";
    public const string Resume = "resume";
    public const string AuthRefresh = "auth.refresh";
    public const string AccessTokenMember = "access_token";

    /// <summary>Handles a control message; false when <paramref name="type"/> is none, and the consumer's to handle.</summary>
    /// <exception cref="InvalidMessageException">The message lacks a field it needs.</exception>
    public async ValueTask<bool> TryHandleAsync(RealtimeConnection connection, ConsumerContext context, string type, JsonElement root)
    {
        switch (type)
        {
            case Ping:
                connection.TrySend(
                    new PongMessage(root.TryGetProperty("id", out var id) ? id : null),
                    RealtimeJsonContext.Default.PongMessage);
                return true;
            case Resume:
                await context.ResumeAsync(ReadResumeSince(root));
                return true;
            case AuthRefresh:
                await RefreshAsync(connection, context, root);
                return true;
            default:
                return false;
        }
    }

    /// <summary>
    /// Continues the connection under a new access token of the same user, so that it outlives the
    /// token it was opened with; anything else changes nothing and is answered <c>invalid_refresh</c>.
    /// </summary>
    private async Task RefreshAsync(RealtimeConnection connection, ConsumerContext context, JsonElement root)
    {
        if (!root.TryGetProperty(AccessTokenMember, out var tokenElement)
            || tokenElement.ValueKind != JsonValueKind.String
            || tokenElement.GetString() is not { Length: > 0 } token)
        {
            throw new InvalidMessageException("An 'auth.refresh' message needs 'access_token': a string.");
        }

        var principal = await accessTokens.ValidateAsync(token, connection.Closing);
        if (principal is null || ConnectionIdentity.From(principal).UserId != connection.Identity.UserId)
        {
            context.SendError(ErrorCodes.InvalidRefresh, "The access token is invalid, expired, or belongs to another user.");
            return;
        }

        // A new token renews the user's credentials, not what else the socket relies on: a membership
        // removed meanwhile closes it rather than being renewed along with it.
        connection.Refresh(principal);
        if (!await authority.RecheckAsync([connection], AuthorityRecheck.Refreshed, connection.Closing))
        {
            return;
        }

        // The consumer's own access rule, asked again for the user as they are now.
        if (context.Consumer is IAuthorizingConsumer rule
            && !await rule.AuthorizeAsync(new ConsumerRequest(principal, context.RouteValues, context.Services, connection.Closing)))
        {
            connection.Close(CloseCodes.Forbidden, "forbidden", discardQueued: true);
            return;
        }

        connection.TrySend(new AuthRefreshedMessage(connection.Identity.ExpiresAt), RealtimeJsonContext.Default.AuthRefreshedMessage);
    }

    private static long ReadResumeSince(JsonElement root) =>
        root.TryGetProperty("since", out var since) && since.ValueKind == JsonValueKind.Number && since.TryGetInt64(out var value) && value >= 0
            ? value
            : throw new InvalidMessageException("A 'resume' message needs 'since': the last message id seen, a number of 0 or more.");
}

using System.Threading.RateLimiting;
using Company.RealtimeApp1.Auth;
using Company.RealtimeApp1.WebSockets;

namespace Company.RealtimeApp1.Users;

// Where the realtime layer and the auth layer meet. Neither knows the other: each declares what it needs
// as a small interface, and the app answers here, with one layer's service for the other's question.

/// <summary>A revocation that reaches this instance makes the access cache forget the user.</summary>
internal sealed class AccessCacheRevocationListener(AccessCache cache) : IRevocationListener
{
    public void OnRevoked(Revocation revocation) => cache.Forget(revocation.UserId);
}

/// <summary>A revoked sign-in closes the user's sockets (4001), on every instance the bus reaches.</summary>
internal sealed class SocketsEndWithSignIn(ConnectionRevocations revocations) : ISignInRevocationListener
{
    public ValueTask OnSignInRevokedAsync(Guid userId, CancellationToken cancellationToken) =>
        revocations.RevokeUserAsync(userId, "sign-in revoked", cancellationToken);
}

/// <summary>Browsers may sign in from the pages that may open the app's WebSockets.</summary>
internal sealed class SignInOrigins(WebSocketOriginPolicy origins) : ISignInOriginPolicy
{
    public bool Allows(HttpRequest request) => origins.Allows(request);

    public bool HasAllowedOrigin(HttpRequest request) => origins.HasAllowedOrigin(request);
}

/// <summary>
/// <c>/token</c>'s rate limits count where the realtime layer counts its own: in Redis, on every instance together,
/// when it is configured (the realtime library holds the one connection to it); else on this instance.
/// </summary>
internal sealed class SharedTokenRateLimiters(IRateLimitStore store) : ITokenRateLimiters
{
    public RateLimiter CreateFixedWindow(string limit, string partition, FixedWindowRateLimiterOptions options) =>
        store.CreateFixedWindow(limit, partition, options);
}

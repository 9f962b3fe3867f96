namespace Company.RealtimeApp1.Client;

/// <summary>The state of a <see cref="RealtimeSubscription"/>, and the close that led to it.</summary>
/// <param name="State">Where the subscription is.</param>
/// <param name="CloseCode">
/// The close code that led here, when one did: the server's (<c>1012</c>, <c>4001</c>, <c>4003</c>, <c>4029</c>, …),
/// <c>1006</c> for a connection lost or never made, <c>1000</c> after <see cref="RealtimeSubscription.DisposeAsync"/>.
/// A handshake the server refused with an HTTP status counts as its close code: 401 as <c>4001</c>, 403 as <c>4003</c>.
/// </param>
/// <param name="CloseReason">The close reason that came with <paramref name="CloseCode"/>.</param>
/// <param name="RetryDelay">With <see cref="SubscriptionState.Reconnecting"/>: how long until the next handshake.</param>
public sealed record SubscriptionStatus(SubscriptionState State, int? CloseCode = null, string? CloseReason = null, TimeSpan? RetryDelay = null);

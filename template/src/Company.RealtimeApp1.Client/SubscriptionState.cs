namespace Company.RealtimeApp1.Client;

/// <summary>Where a <see cref="RealtimeSubscription"/> is in its life.</summary>
public enum SubscriptionState
{
    /// <summary>Opening its first socket.</summary>
    Connecting,

    /// <summary>The server welcomed the current socket.</summary>
    Open,

    /// <summary>A socket closed or could not be opened, and another one will be, after <see cref="SubscriptionStatus.RetryDelay"/>.</summary>
    Reconnecting,

    /// <summary>Stopped for good: disposed, refused (<c>4003</c>, or <c>4001</c> with no newer token), or closed with a code not worth retrying.</summary>
    Closed,
}

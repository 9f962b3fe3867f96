namespace Company.RealtimeApp1.WebSockets;

/// <summary>How a replay from the store went: what <c>resumed</c> tells the client.</summary>
internal enum ReplayOutcome
{
    /// <summary>Every stored message after <c>since</c> was sent: nothing is missing.</summary>
    Recovered,

    /// <summary>Messages right after <c>since</c> were trimmed from the history: the client missed some for good.</summary>
    NotRecovered,

    /// <summary><c>since</c> is past the stream's newest message: no client could have seen it.</summary>
    BeyondHead,
}

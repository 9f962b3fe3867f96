namespace Company.RealtimeApp1.Client;

/// <summary>A socket that could not be opened, as the close code a subscription acts on (4001, 4003, 4029, 1013, 1006).</summary>
internal sealed class HandshakeFailedException(int closeCode, string reason, TimeSpan retryAfter = default) : Exception(reason)
{
    public int CloseCode { get; } = closeCode;

    /// <summary>The server's <c>Retry-After</c>: the next attempt waits at least this long.</summary>
    public TimeSpan RetryAfter { get; } = retryAfter;
}

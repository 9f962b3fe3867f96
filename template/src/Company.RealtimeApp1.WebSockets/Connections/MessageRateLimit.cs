namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// A token bucket for one connection's incoming messages: <c>perSecond</c> sustained, <c>burst</c> at
/// once. Only the connection's receive loop uses it, so it needs no lock.
/// </summary>
internal sealed class MessageRateLimit(int perSecond, int burst, TimeProvider time)
{
    private double _tokens = burst;
    private long _refilledAt = time.GetTimestamp();

    public bool TryTake()
    {
        var now = time.GetTimestamp();
        _tokens = Math.Min(burst, _tokens + (time.GetElapsedTime(_refilledAt, now).TotalSeconds * perSecond));
        _refilledAt = now;
        if (_tokens < 1)
        {
            return false;
        }

        _tokens -= 1;
        return true;
    }
}

using Microsoft.AspNetCore.Http.Features;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// Gives a close frame on its way out a moment before the connection goes. When the framework's WebSocket finds
/// the client at fault (invalid UTF-8, a protocol error) it writes its close frame (1007, 1002) and aborts itself,
/// and ASP.NET Core turns that into an abort of the connection at once: the frame, still in the output pipe, is
/// dropped and the client sees 1006. Installed for a socket's request before it is accepted, this holds every
/// abort asked for through the request (<see cref="HttpContext.Abort"/>: the framework's, a keep-alive timeout's,
/// the host's) for <c>hold</c> at most, then aborts; <see cref="AbortNow"/> does not wait.
/// </summary>
internal sealed class HeldConnectionAbort : IHttpRequestLifetimeFeature, IDisposable
{
    private static readonly TimeSpan MaxHold = TimeSpan.FromSeconds(1);

    private readonly IHttpRequestLifetimeFeature _inner;
    private readonly TimeSpan _hold;
    private readonly Timer _timer;
    private int _held;

    private HeldConnectionAbort(IHttpRequestLifetimeFeature inner, TimeSpan hold)
    {
        _inner = inner;
        _hold = hold;
        _timer = new Timer(static state => ((HeldConnectionAbort)state!).AbortNow(), this, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>Installs the hold on <paramref name="context"/>'s request; the longest an abort waits is <paramref name="hold"/>.</summary>
    public static HeldConnectionAbort Install(HttpContext context, TimeSpan hold)
    {
        var held = new HeldConnectionAbort(context.Features.GetRequiredFeature<IHttpRequestLifetimeFeature>(), hold);
        context.Features.Set<IHttpRequestLifetimeFeature>(held);
        return held;
    }

    /// <summary>The hold for these settings: the close timeout, at most a second.</summary>
    public static TimeSpan HoldFor(RealtimeOptions options) => options.CloseTimeout < MaxHold ? options.CloseTimeout : MaxHold;

    public CancellationToken RequestAborted
    {
        get => _inner.RequestAborted;
        set => _inner.RequestAborted = value;
    }

    /// <summary>Aborts the connection once the hold runs out (it ends sooner if the client hangs up meanwhile).</summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _held, 1) == 0)
        {
            _timer.Change(_hold, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Aborts the connection now.</summary>
    public void AbortNow() => _inner.Abort();

    /// <summary>
    /// Ends the connection: waits until the client hangs up or the hold runs out, so that the last frame it was
    /// sent (a close, say) is not lost in a reset, then aborts.
    /// </summary>
    public async Task AbortAfterHoldAsync()
    {
        try
        {
            await Task.Delay(_hold, RequestAborted);
        }
        catch (OperationCanceledException)
        {
            // The client hung up, or the held abort ran out: nothing left to protect.
        }

        AbortNow();
    }

    public void Dispose() => _timer.Dispose();
}

using Microsoft.AspNetCore.Http.Features;

namespace Company.RealtimeApp1.Realtime;

/// <summary>
/// Keeps the connection up until the host ends it. When the framework's WebSocket finds the client at fault
/// (invalid UTF-8, a protocol error) it writes its close frame (1007, 1002) and aborts itself, and ASP.NET Core
/// turns that abort into an abort of the connection at once: the close frame, still on its way out, is
/// dropped and the client sees 1006. Installed for a socket's request, this holds every abort of the
/// connection asked for through the request (<see cref="HttpContext.Abort"/>) until the host calls
/// <see cref="AbortNow"/>: at its close deadline (which must end a write to a client that does not read), or
/// after the last frame had its moment to go out.
/// </summary>
internal sealed class HeldConnectionAbort : IHttpRequestLifetimeFeature
{
    private readonly IHttpRequestLifetimeFeature _inner;

    private HeldConnectionAbort(IHttpRequestLifetimeFeature inner) => _inner = inner;

    /// <summary>Installs the hold on <paramref name="context"/>'s request, before the socket is accepted.</summary>
    public static HeldConnectionAbort Install(HttpContext context)
    {
        var held = new HeldConnectionAbort(context.Features.GetRequiredFeature<IHttpRequestLifetimeFeature>());
        context.Features.Set<IHttpRequestLifetimeFeature>(held);
        return held;
    }

    public CancellationToken RequestAborted
    {
        get => _inner.RequestAborted;
        set => _inner.RequestAborted = value;
    }

    /// <summary>Held: the host aborts with <see cref="AbortNow"/>.</summary>
    public void Abort()
    {
    }

    /// <summary>Aborts the connection now.</summary>
    public void AbortNow() => _inner.Abort();
}

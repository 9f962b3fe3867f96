namespace Company.RealtimeApp1.Tests.Browser;

/// <summary>What a routed WebSocket of the page does (see <see cref="PageSockets.RouteAsync"/>).</summary>
public abstract record SocketAnswer
{
    /// <summary>
    /// Connects to the server. Frames pass as they are, unless <paramref name="copiesOfServerFrame"/> says how many
    /// times the page receives each text frame from the server (0 drops it).
    /// </summary>
    public static SocketAnswer Connect(Func<string, int>? copiesOfServerFrame = null) => new Connected(copiesOfServerFrame);

    /// <summary>
    /// Never reaches the server: the page's socket opens, receives <paramref name="frame"/>, and is closed with
    /// <paramref name="code"/> and <paramref name="reason"/>, as a server refusing it in band would.
    /// </summary>
    public static SocketAnswer Refuse(string frame, int code, string reason) => new Refused(frame, code, reason);

    public sealed record Connected(Func<string, int>? CopiesOfServerFrame) : SocketAnswer;

    public sealed record Refused(string Frame, int Code, string Reason) : SocketAnswer;
}

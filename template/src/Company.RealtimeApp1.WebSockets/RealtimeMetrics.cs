using System.Diagnostics.Metrics;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// The WebSocket layer's instruments, on a meter named after the app (<see cref="MeterName"/>): what an
/// operator watches with <c>dotnet-counters monitor --counters Company.RealtimeApp1</c> or OpenTelemetry.
/// </summary>
public sealed class RealtimeMetrics
{
    public const string MeterName = "Company.RealtimeApp1";

    private readonly UpDownCounter<long> _active;
    private readonly Counter<long> _handshakeFailures;
    private readonly Counter<long> _messagesIn;
    private readonly Counter<long> _messagesOut;
    private readonly Counter<long> _closes;
    private readonly Histogram<double> _fanOut;

    public RealtimeMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _active = meter.CreateUpDownCounter<long>("realtime.connections.active", "{connection}", "Open WebSocket connections on this instance.");
        _handshakeFailures = meter.CreateCounter<long>("realtime.handshake.failures", "{handshake}", "Refused WebSocket handshakes, by reason.");
        _messagesIn = meter.CreateCounter<long>("realtime.messages.received", "{message}", "Messages received from clients.");
        _messagesOut = meter.CreateCounter<long>("realtime.messages.sent", "{message}", "Messages written to clients.");
        _closes = meter.CreateCounter<long>("realtime.connections.closed", "{connection}", "Closed connections, by close code.");
        _fanOut = meter.CreateHistogram<double>("realtime.fanout.duration", "ms", "Time to hand one broadcast to every local member of its stream.");
    }

    internal void Connected() => _active.Add(1);

    internal void Disconnected(int? closeCode)
    {
        _active.Add(-1);
        _closes.Add(1, new KeyValuePair<string, object?>("code", closeCode ?? 1006));
    }

    internal void HandshakeRefused(string reason) => _handshakeFailures.Add(1, new KeyValuePair<string, object?>("reason", reason));

    internal void MessageReceived() => _messagesIn.Add(1);

    internal void MessagesSent(int count) => _messagesOut.Add(count);

    internal void FannedOut(TimeSpan elapsed) => _fanOut.Record(elapsed.TotalMilliseconds);
}

using System.Buffers.Binary;
using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace WsAuth.Bench.Infrastructure;

/// <summary>
/// Reads another .NET process's <c>System.Diagnostics.Metrics</c> instruments over its diagnostics port, as
/// <c>dotnet-counters</c> does: one EventPipe session enabling the runtime's <c>System.Diagnostics.Metrics</c>
/// event source for the named meters with a 1 s refresh, and nothing inside the server. The stream is not
/// decoded as a whole (that needs TraceEvent): each value event's payload is a run of UTF-16 strings
/// (session, meter, version, instrument, unit, tags, rate, value), so the reader looks for an instrument's
/// name between string terminators and reads the four strings after it, keeping those whose rate and value
/// are numbers (the instrument-published events that also carry the name have words there).
/// </summary>
internal sealed class MetricsListener : IAsyncDisposable
{
    private const string Provider = "System.Diagnostics.Metrics";
    private const ulong TimeSeriesValues = 0x2;

    private readonly Socket _session;
    private readonly string _endpoint;
    private readonly ulong _sessionId;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reading;
    private readonly (string Name, byte[] Pattern)[] _instruments;
    private readonly Dictionary<(string Instrument, string Tags), double> _latest = [];
    private readonly Dictionary<(string Instrument, string Tags), double> _sums = [];

    private MetricsListener(Socket session, string endpoint, ulong sessionId, string[] instruments)
    {
        _session = session;
        _endpoint = endpoint;
        _sessionId = sessionId;
        _instruments = [.. instruments.Select(name => (name, Encoding.Unicode.GetBytes("\0" + name + "\0")))];
        _reading = ReadAsync();
    }

    /// <summary>Events seen so far that carried a value: zero means the session delivers nothing.</summary>
    public int Values { get; private set; }

    /// <param name="meters">Meter names (<c>Company.RealtimeApp1</c>, <c>System.Runtime</c>).</param>
    /// <param name="instruments">The instruments whose values are kept.</param>
    public static async Task<MetricsListener?> StartAsync(int pid, string[] meters, string[] instruments, CancellationToken cancellationToken)
    {
        if (InducedGc.FindEndpoint(pid) is not { } endpoint)
        {
            return null;
        }

        var session = await InducedGc.ConnectAsync(endpoint, cancellationToken);
        var arguments = $"SessionId={Guid.NewGuid():D};Metrics={string.Join(',', meters)};RefreshInterval=1;MaxTimeSeries=1000;MaxHistograms=20";
        await session.SendAsync(InducedGc.Request(InducedGc.CollectTracing, Payload(arguments)), cancellationToken);
        var response = await InducedGc.ReadResponseAsync(session, cancellationToken);
        if (response is not { Length: >= 8 })
        {
            session.Dispose();
            return null;
        }

        return new MetricsListener(session, endpoint, BinaryPrimitives.ReadUInt64LittleEndian(response), instruments);
    }

    /// <summary>The last value of an instrument (summed over its tag sets when <paramref name="tags"/> is null).</summary>
    public double Latest(string instrument, string? tags = null)
    {
        lock (_latest)
        {
            var values = _latest.Where(pair => pair.Key.Instrument == instrument && (tags is null || pair.Key.Tags == tags)).Select(pair => pair.Value).ToList();
            return values.Count == 0 ? double.NaN : values.Sum();
        }
    }

    /// <summary>The sum of a counter's rates (each the increase over one refresh interval): its increase since the session began.</summary>
    public double Total(string instrument, string tags)
    {
        lock (_latest)
        {
            return _sums.GetValueOrDefault((instrument, tags));
        }
    }

    private static byte[] Payload(string arguments)
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream, Encoding.Unicode);
        writer.Write(16u);
        writer.Write(1u);
        writer.Write(1u);
        writer.Write(TimeSeriesValues);
        writer.Write(5u); // verbose
        InducedGc.WriteString(writer, Provider);
        InducedGc.WriteString(writer, arguments);
        writer.Flush();
        return stream.ToArray();
    }

    private async Task ReadAsync()
    {
        var buffer = new byte[1 << 20];
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    // Nothing parseable in a whole megabyte: keep the tail only.
                    Array.Copy(buffer, length - 4096, buffer, 0, 4096);
                    length = 4096;
                }

                var read = await _session.ReceiveAsync(buffer.AsMemory(length), SocketFlags.None, _stop.Token);
                if (read == 0)
                {
                    return;
                }

                length += read;
                var keep = Scan(buffer.AsSpan(0, length));
                Array.Copy(buffer, keep, buffer, 0, length - keep);
                length -= keep;
            }
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The session ended.
        }
    }

    /// <summary>Parses every complete value event in <paramref name="data"/>; returns how many bytes are done with.</summary>
    private int Scan(ReadOnlySpan<byte> data)
    {
        var done = 0;
        var longest = _instruments.Max(instrument => instrument.Pattern.Length);
        while (true)
        {
            var next = -1;
            var which = 0;
            for (var i = 0; i < _instruments.Length; i++)
            {
                var at = data[done..].IndexOf(_instruments[i].Pattern);
                if (at >= 0 && (next < 0 || at < next))
                {
                    (next, which) = (at, i);
                }
            }

            if (next < 0)
            {
                // A name may straddle the end: keep the last bytes for the next read.
                return Math.Max(done, data.Length - longest - 512);
            }

            var start = done + next;
            var cursor = start + _instruments[which].Pattern.Length;
            var strings = new string[4];
            for (var k = 0; k < 4; k++)
            {
                if (!TryReadString(data, ref cursor, out strings[k]))
                {
                    return start; // incomplete: wait for more
                }
            }

            done = start + 2;
            // strings: unit, tags, rate, value. Counters carry the increase in rate; up-down counters and gauges the value.
            if (double.TryParse(strings[3], NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                && (strings[2].Length == 0 || double.TryParse(strings[2], NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
            {
                var key = (_instruments[which].Name, strings[1]);
                lock (_latest)
                {
                    _latest[key] = value;
                    if (double.TryParse(strings[2], NumberStyles.Float, CultureInfo.InvariantCulture, out var rate))
                    {
                        _sums[key] = _sums.GetValueOrDefault(key) + rate;
                    }

                    Values++;
                }
            }
        }
    }

    private static bool TryReadString(ReadOnlySpan<byte> data, ref int cursor, out string value)
    {
        value = "";
        for (var end = cursor; end + 1 < data.Length; end += 2)
        {
            if (data[end] == 0 && data[end + 1] == 0)
            {
                value = Encoding.Unicode.GetString(data[cursor..end]);
                cursor = end + 2;
                return true;
            }

            if (end - cursor > 2048)
            {
                cursor = end;
                return true; // not a string of a value event; the number checks reject it
            }
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            using var stop = await InducedGc.ConnectAsync(_endpoint, timeout.Token);
            var payload = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(payload, _sessionId);
            await stop.SendAsync(InducedGc.Request(InducedGc.StopTracing, payload), timeout.Token);
            await InducedGc.ReadResponseAsync(stop, timeout.Token);
        }
        catch (Exception exception) when (exception is SocketException or IOException or OperationCanceledException)
        {
            // The server is gone already.
        }

        await _stop.CancelAsync();
        _session.Dispose();
        try
        {
            await _reading;
        }
        catch (ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }
}

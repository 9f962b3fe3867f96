using System.Diagnostics;

namespace WsAuth.Bench.Load;

/// <summary>Latency percentiles in milliseconds, and how many samples they come from.</summary>
internal sealed record LatencySummary(long Count, double P50, double P90, double P99, double Max)
{
    public static LatencySummary Empty { get; } = new(0, double.NaN, double.NaN, double.NaN, double.NaN);
}

/// <summary>
/// Every latency of a measurement, kept exactly (up to a capacity) and sorted at the end. Recording is one
/// interlocked increment and a store, safe from every receive loop at once.
/// </summary>
internal sealed class LatencyRecorder(int capacity)
{
    private readonly long[] _samples = new long[capacity];
    private int _count;

    public int Count => Math.Min(Volatile.Read(ref _count), _samples.Length);

    public void Record(long elapsedTicks)
    {
        var index = Interlocked.Increment(ref _count) - 1;
        if (index < _samples.Length)
        {
            _samples[index] = elapsedTicks;
        }
    }

    public void Reset() => Volatile.Write(ref _count, 0);

    public LatencySummary Summarize()
    {
        var count = Count;
        if (count == 0)
        {
            return LatencySummary.Empty;
        }

        var sorted = _samples.AsSpan(0, count).ToArray();
        Array.Sort(sorted);
        return new LatencySummary(count, Percentile(sorted, 0.50), Percentile(sorted, 0.90), Percentile(sorted, 0.99), ToMilliseconds(sorted[^1]));
    }

    private static double Percentile(long[] sorted, double fraction) =>
        ToMilliseconds(sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(fraction * sorted.Length) - 1)]);

    private static double ToMilliseconds(long ticks) => Math.Round(ticks * 1000.0 / Stopwatch.Frequency, 3);
}

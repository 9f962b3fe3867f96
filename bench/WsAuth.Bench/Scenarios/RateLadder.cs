using System.Diagnostics;
using WsAuth.Bench.Infrastructure;
using WsAuth.Bench.Load;
using WsAuth.Bench.Reporting;
using WsAuth.Bench.Servers;

namespace WsAuth.Bench.Scenarios;

/// <summary>
/// Counts deliveries: every record that carries a <c>ts</c> from the current step (published at or after the
/// step began), with its publish-to-receive latency. Called from every socket's receive loop.
/// </summary>
internal sealed class DeliveryCounter
{
    private long _from = long.MaxValue;
    private int _received;
    private int _other;
    private long _lastAt;

    public LatencyRecorder Latency { get; } = new(4_000_000);

    public int Received => Volatile.Read(ref _received);

    /// <summary>Records without a timestamp (errors, acknowledgements): zero when all goes well.</summary>
    public int Other => Volatile.Read(ref _other);

    public long LastAt => Volatile.Read(ref _lastAt);

    public void Open(long from)
    {
        Volatile.Write(ref _from, from);
        Latency.Reset();
        Volatile.Write(ref _received, 0);
        Volatile.Write(ref _lastAt, from);
    }

    public void OnRecord(BenchSocket socket, ReadOnlySpan<byte> record)
    {
        if (!Payload.TryReadTimestamp(record, out var timestamp))
        {
            Interlocked.Increment(ref _other);
            return;
        }

        if (timestamp < Volatile.Read(ref _from))
        {
            return;
        }

        var now = Stopwatch.GetTimestamp();
        Latency.Record(now - timestamp);
        Interlocked.Increment(ref _received);
        if (now > Volatile.Read(ref _lastAt))
        {
            Volatile.Write(ref _lastAt, now);
        }
    }
}

/// <summary>
/// Publishes at rising rates, one step each: open-loop publishing for the step's duration, then a short wait
/// for what is still on its way. A step's deliveries per second count from its first publish to its last
/// delivery. A run climbs the ladder while the server keeps up (<see cref="StepResult.KeptUp"/>); in full
/// mode it then bisects (geometrically) between the last rate it sustained (<see cref="StepResult.Sustained"/>)
/// and the first it did not, so the sustained figure is not one ladder rung short. Before the runs, a
/// group-send warm-up publishes at the reference rate, so the fan-out path is jitted before it is measured.
/// <para>
/// The figures: <c>sustained_deliveries_per_s</c> is, in each run, the deliveries/s of the highest offered
/// rate the server sustained (≥ 99.9 % delivered, p99 under 1 s, publishing at ≥ 90 % of the offered rate),
/// then the median over the runs; <c>max_deliveries_per_s</c> (also <c>peak_deliveries_per_s</c>, the old
/// name) is each run's highest deliveries/s at any step, saturated or not, the median over the runs.
/// </para>
/// </summary>
internal static class RateLadder
{
    private const int MaxPublishesInFlight = 512;

    /// <param name="publish">Publishes message <c>i</c>; returns how many deliveries it should make, or -1 if it failed.</param>
    public static async Task RunAsync(
        ServerSession session, ScenarioResult result, DeliveryCounter counter, IReadOnlyList<int> rates, int referenceRate,
        Func<int, Task<int>> publish, CancellationToken cancellationToken)
    {
        var profile = session.Profile;
        var warmUp = await StepAsync(session, counter, referenceRate, profile.GroupWarmUp, publish, cancellationToken);
        Progress.Write($"  {session.Name,-8} {result.Scenario} warm-up @ {referenceRate}/s for {profile.GroupWarmUp.TotalSeconds:0.#} s: " +
            $"{warmUp.DeliveriesPerSecond:0} deliveries/s, p99 {warmUp.Latency.P99:0.0} ms");
        if (!warmUp.KeptUp)
        {
            // Whatever the warm-up left queued is done before the first step.
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }

        var runs = new List<List<StepResult>>();
        for (var run = 0; run < profile.LadderRuns; run++)
        {
            var steps = new List<StepResult>();
            int? lastGood = null;
            int? firstBad = null;
            foreach (var rate in rates)
            {
                var step = await MeasureAsync(rate);
                if (step.Sustained)
                {
                    lastGood = rate;
                }
                else
                {
                    firstBad ??= rate;
                }

                if (!step.KeptUp)
                {
                    break;
                }
            }

            for (var bisection = 0; bisection < profile.Bisections && firstBad is { } bad; bisection++)
            {
                var good = lastGood ?? 0;
                var middle = good == 0 ? bad / 2 : (int)Math.Round(Math.Sqrt((double)good * bad));
                if (middle <= good || middle >= bad)
                {
                    break;
                }

                var step = await MeasureAsync(middle);
                if (step.Sustained)
                {
                    lastGood = middle;
                }
                else
                {
                    firstBad = middle;
                }
            }

            runs.Add(steps);
            var sustained = steps.Where(step => step.Sustained).MaxBy(step => step.OfferedPerSecond);
            var max = steps.MaxBy(step => step.DeliveriesPerSecond)!;
            result.Runs.Add(new Dictionary<string, double>
            {
                ["sustained_deliveries_per_s"] = sustained?.DeliveriesPerSecond ?? 0,
                ["sustained_offered_per_s"] = sustained?.OfferedPerSecond ?? 0,
                ["sustained_p99_ms"] = sustained?.Latency.P99 ?? double.NaN,
                ["max_deliveries_per_s"] = max.DeliveriesPerSecond,
                ["max_at_offered_per_s"] = max.OfferedPerSecond,
                ["max_delivered_fraction"] = max.Expected > 0 ? Math.Round(max.Received / (double)max.Expected, 4) : double.NaN,
                ["max_p99_ms"] = max.Latency.P99,
                ["max_server_cpu"] = max.ServerCpu,
                ["max_generator_cpu"] = max.GeneratorCpu,
                ["first_unsustained_offered_per_s"] = firstBad ?? double.NaN,
            });

            async Task<StepResult> MeasureAsync(int rate)
            {
                var step = await StepAsync(session, counter, rate, profile.StepDuration, publish, cancellationToken);
                steps.Add(step);
                Progress.Write($"  {session.Name,-8} {result.Scenario} run {run + 1} @ {rate}/s: {step.DeliveriesPerSecond:0} deliveries/s, " +
                    $"{step.Received}/{step.Expected} received, p50 {step.Latency.P50:0.0} ms, p99 {step.Latency.P99:0.0} ms " +
                    $"(server CPU {step.ServerCpu:P0}, generator {step.GeneratorCpu:P0}){(step.Sustained ? "" : step.KeptUp ? " — not sustained" : " — saturated")}");
                if (!step.KeptUp)
                {
                    // Past saturation: give the server a moment to finish what is still queued before going on.
                    await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                }

                return step;
            }
        }

        // Per offered rate, each number the median over the runs that measured it (bisected rates differ by run).
        foreach (var at in runs.SelectMany(steps => steps).GroupBy(step => step.OfferedPerSecond).OrderBy(group => group.Key).Select(group => group.ToList()))
        {
            result.Steps.Add(new StepResult(
                at[0].OfferedPerSecond,
                Statistics.Median(at.Select(step => step.PublishedPerSecond)),
                (long)Statistics.Median(at.Select(step => (double)step.Published)),
                (long)Statistics.Median(at.Select(step => (double)step.PublishFailures)),
                (long)Statistics.Median(at.Select(step => (double)step.Expected)),
                (long)Statistics.Median(at.Select(step => (double)step.Received)),
                Math.Round(Statistics.Median(at.Select(step => step.DeliveriesPerSecond)), 1),
                new LatencySummary(
                    (long)Statistics.Median(at.Select(step => (double)step.Latency.Count)),
                    Statistics.Median(at.Select(step => step.Latency.P50)),
                    Statistics.Median(at.Select(step => step.Latency.P90)),
                    Statistics.Median(at.Select(step => step.Latency.P99)),
                    Statistics.Median(at.Select(step => step.Latency.Max))),
                Statistics.Median(at.Select(step => step.ServerCpu)),
                Statistics.Median(at.Select(step => step.GeneratorCpu)))
            {
                Runs = at.Count,
            });
        }

        result.StepsByRun.AddRange(runs);
        foreach (var figure in new[]
        {
            "sustained_deliveries_per_s", "sustained_offered_per_s", "sustained_p99_ms", "max_deliveries_per_s", "max_at_offered_per_s",
            "max_delivered_fraction", "max_p99_ms", "max_server_cpu", "max_generator_cpu",
        })
        {
            result.Figures[figure] = Statistics.Median(result.Runs.Select(run => run[figure]));
        }

        // The old names, for readers of earlier JSON: the peak is the saturated maximum.
        result.Figures["peak_deliveries_per_s"] = result.Figures["max_deliveries_per_s"];
        result.Figures["peak_at_offered_per_s"] = result.Figures["max_at_offered_per_s"];
        result.Figures["reference_offered_per_s"] = referenceRate;
        if (result.Steps.FirstOrDefault(step => step.OfferedPerSecond == referenceRate) is { } reference)
        {
            result.Figures["p50_ms"] = reference.Latency.P50;
            result.Figures["p99_ms"] = reference.Latency.P99;
        }
        else
        {
            result.Notes.Add($"saturated below the reference rate ({referenceRate}/s): no latency at it");
        }

        if (result.Figures["sustained_deliveries_per_s"] == 0)
        {
            result.Notes.Add($"sustained no step of the ladder (the lowest was {rates[0]}/s)");
        }

        if (counter.Other > 0)
        {
            result.Notes.Add($"{counter.Other} messages without a timestamp arrived (errors or acknowledgements)");
        }
    }

    private static async Task<StepResult> StepAsync(
        ServerSession session, DeliveryCounter counter, int rate, TimeSpan duration, Func<int, Task<int>> publish,
        CancellationToken cancellationToken)
    {
        await session.WaitForQuietAsync(cancellationToken);
        var count = Math.Max(1, (int)(rate * duration.TotalSeconds));
        long expected = 0;
        var serverCpu = new CpuMeter(session.CpuPids);
        var generatorCpu = new CpuMeter(Environment.ProcessId);
        var from = Stopwatch.GetTimestamp();
        counter.Open(from);

        var paced = await Pacer.RunAsync(
            count,
            rate,
            async index =>
            {
                var deliveries = await publish(index);
                if (deliveries < 0)
                {
                    return false;
                }

                Interlocked.Add(ref expected, deliveries);
                return true;
            },
            MaxPublishesInFlight,
            issueFor: duration * 1.25,
            timeout: (duration * 3) + TimeSpan.FromSeconds(10),
            cancellationToken);

        var drainUntil = Stopwatch.GetTimestamp() + (long)(session.Profile.Drain.TotalSeconds * Stopwatch.Frequency);
        while (counter.Received < Volatile.Read(ref expected) && Stopwatch.GetTimestamp() < drainUntil)
        {
            await Task.Delay(10, cancellationToken);
        }

        var seconds = Math.Max(duration.TotalSeconds / 10, (counter.LastAt - from) / (double)Stopwatch.Frequency);
        var step = new StepResult(
            rate,
            Math.Round(paced.Succeeded / paced.Elapsed.TotalSeconds, 1),
            paced.Succeeded,
            paced.Failed + paced.NotStarted,
            Volatile.Read(ref expected),
            counter.Received,
            Math.Round(counter.Received / seconds, 1),
            counter.Latency.Summarize(),
            serverCpu.Read(),
            generatorCpu.Read());
        return step;
    }
}

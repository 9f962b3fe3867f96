using System.Text.Json.Serialization;
using WsAuth.Bench.Load;

namespace WsAuth.Bench.Reporting;

/// <summary>One step of a rate ladder: what was offered, what got through, how fast, how late.</summary>
internal sealed record StepResult(
    double OfferedPerSecond,
    double PublishedPerSecond,
    long Published,
    long PublishFailures,
    long Expected,
    long Received,
    double DeliveriesPerSecond,
    LatencySummary Latency,
    double ServerCpu,
    double GeneratorCpu)
{
    /// <summary>Whether the server kept up: nearly everything arrived, nothing queued up for long.</summary>
    [JsonIgnore]
    public bool KeptUp => Expected > 0 && Received >= 0.95 * Expected && PublishedPerSecond >= 0.9 * OfferedPerSecond && Latency.P99 < 1000;

    /// <summary>
    /// Whether the step counts towards the sustained figure: at least 99.9 % of the messages arrived within
    /// the step and its drain, p99 under a second, and the generator published at ≥ 90 % of the offered rate.
    /// </summary>
    public bool Sustained => Expected > 0 && Received >= 0.999 * Expected && PublishedPerSecond >= 0.9 * OfferedPerSecond && Latency.P99 < 1000;

    /// <summary>How many runs measured this rate (in <see cref="ScenarioResult.Steps"/>; 1 in a run's own steps).</summary>
    public int Runs { get; init; } = 1;
}

/// <summary>One scenario against one server: its headline figures, every run, every step, and what to know.</summary>
internal sealed class ScenarioResult
{
    public required string Scenario { get; init; }

    public required string Server { get; init; }

    /// <summary>The figures the table shows (each the median over runs).</summary>
    public Dictionary<string, double> Figures { get; } = new(StringComparer.Ordinal);

    public List<Dictionary<string, double>> Runs { get; } = [];

    /// <summary>Per rate step, each number the median over the ladder's runs.</summary>
    public List<StepResult> Steps { get; } = [];

    /// <summary>Every run's own steps, in the order they were measured (bisection steps last).</summary>
    public List<List<StepResult>> StepsByRun { get; } = [];

    /// <summary>Time series (the soak's samples), one dictionary per sample.</summary>
    public List<Dictionary<string, double>> Samples { get; } = [];

    public List<string> Notes { get; } = [];
}

internal sealed class ServerRecord
{
    public required string Name { get; init; }

    public required string Description { get; init; }

    public required Dictionary<string, string> Settings { get; init; }

    public double BuildSeconds { get; set; }

    public double StartSeconds { get; set; }
}

internal sealed class BenchReport
{
    public required string Mode { get; init; }

    public required DateTimeOffset StartedAt { get; init; }

    public double DurationSeconds { get; set; }

    public required Dictionary<string, string> Machine { get; init; }

    public required Dictionary<string, string> Method { get; init; }

    public List<ServerRecord> Servers { get; } = [];

    public List<ScenarioResult> Scenarios { get; } = [];

    public List<string> Notes { get; } = [];

    public ScenarioResult? Find(string scenario, string server) =>
        Scenarios.FirstOrDefault(result => result.Scenario == scenario && result.Server == server);
}

internal static class Statistics
{
    public static double Median(IEnumerable<double> values)
    {
        var sorted = values.Where(value => !double.IsNaN(value)).Order().ToArray();
        if (sorted.Length == 0)
        {
            return double.NaN;
        }

        var middle = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
    }
}

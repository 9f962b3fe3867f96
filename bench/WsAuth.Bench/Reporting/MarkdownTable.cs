using System.Globalization;
using System.Text;

namespace WsAuth.Bench.Reporting;

/// <summary>The final table: each figure per server, and the ratios subject/SignalR and subject/bare with the goals.</summary>
internal static class MarkdownTable
{
    public static string Render(BenchReport report)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"## WsAuth bench: {report.Mode} ({report.StartedAt:yyyy-MM-dd HH:mm} UTC, {report.DurationSeconds:0} s)");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Subject from template {report.Method.GetValueOrDefault("template", "?")}; {report.Machine.GetValueOrDefault("summary", "")}.");
        text.AppendLine();
        text.AppendLine("| scenario | figure | subject | SignalR | bare | subject/SignalR | subject/bare | goal |");
        text.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |");
        foreach (var headline in Headlines.All)
        {
            var subject = Headlines.Value(report, headline, "subject");
            var signalR = Headlines.Value(report, headline, "signalr");
            var bare = Headlines.Value(report, headline, "bare");
            var toSignalR = Headlines.Ratio(subject, signalR);
            var toBare = Headlines.Ratio(subject, bare);
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {headline.Label} | {Describe(report, headline)} {(headline.HigherIsBetter ? "↑" : "↓")} | {Format(subject)} | {Format(signalR)} | {Format(bare)} " +
                $"| {FormatRatio(toSignalR)} | {FormatRatio(toBare)} | {Goals(headline, toSignalR, toBare)} |");
        }

        text.AppendLine();
        text.AppendLine("↑ higher is better, ↓ lower is better; a ratio is subject ÷ peer whichever way is better. " +
            "Latencies are publish-to-receive (fan-out, notifications) or send-to-reply (echo), at the reference rate named in the row. " +
            "Sustained: in each run, the deliveries/s of the highest offered rate at which ≥ 99.9 % of the messages arrived and p99 stayed under 1 s " +
            "(bisected between the last good and the first bad rung in full mode), the median over the runs; max: each run's highest deliveries/s " +
            "at any step, however few arrived or however late, the median over the runs.");
        foreach (var note in report.Notes)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
        }

        foreach (var scenario in report.Scenarios.Where(scenario => scenario.Notes.Count > 0))
        {
            foreach (var note in scenario.Notes)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"- {scenario.Server} / {scenario.Scenario}: {note}");
            }
        }

        return text.ToString();
    }

    private static string Describe(BenchReport report, Headline headline)
    {
        var any = report.Scenarios.FirstOrDefault(scenario => scenario.Scenario == headline.Scenario);
        if (any is null)
        {
            return headline.Unit;
        }

        if (headline.Figure is "p50_ms" or "p99_ms" && any.Figures.TryGetValue("reference_offered_per_s", out var rate))
        {
            return $"{headline.Unit} @ {rate:0}/s";
        }

        if (headline.Scenario == "idle-memory" && any.Figures.TryGetValue("sockets", out var sockets))
        {
            return $"{headline.Unit}, {sockets:0} sockets";
        }

        var perEvent = any.Figures.TryGetValue("recipients_per_event", out var recipients) ? $", {recipients:0} per event" : "";
        if (headline.Figure == "sustained_deliveries_per_s")
        {
            return $"sustained {headline.Unit} (≥ 99.9 % arrive, p99 < 1 s){perEvent}";
        }

        if (headline.Figure == "max_deliveries_per_s")
        {
            return $"max {headline.Unit}, saturated{perEvent}";
        }

        if (headline.Scenario == "echo" && headline.HigherIsBetter && any.Figures.TryGetValue("offered_per_s", out var offered))
        {
            return $"{headline.Unit} (offered {offered:0})";
        }

        return headline.Unit;
    }

    private static string Goals(Headline headline, double toSignalR, double toBare)
    {
        var goals = new List<string>();
        if (headline.AgainstSignalR is { } signalR)
        {
            goals.Add($"{signalR} SignalR {Mark(signalR, toSignalR)}");
        }

        if (headline.AgainstBare is { } bare)
        {
            goals.Add($"{bare} bare {Mark(bare, toBare)}");
        }

        return string.Join("; ", goals);
    }

    private static string Mark(Goal goal, double ratio) => double.IsNaN(ratio) ? "?" : goal.IsMet(ratio) ? "✅" : "❌";

    public static string Format(double value) => double.IsNaN(value) ? "—"
        : Math.Abs(value) >= 100 ? value.ToString("#,0", CultureInfo.InvariantCulture)
        : Math.Abs(value) >= 10 ? value.ToString("0.0", CultureInfo.InvariantCulture)
        : value.ToString("0.00", CultureInfo.InvariantCulture);

    private static string FormatRatio(double ratio) => double.IsNaN(ratio) ? "—" : ratio.ToString("0.00", CultureInfo.InvariantCulture) + "×";
}

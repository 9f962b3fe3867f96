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
                $"| {FormatRatio(toSignalR)} | {FormatRatio(toBare)} | {Goals(headline, subject, toSignalR, toBare)} |");
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

    /// <summary>The soak's report: what it checks, whether each check passed, and the samples.</summary>
    public static string RenderSoak(BenchReport report)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"## WsAuth bench: soak ({report.StartedAt:yyyy-MM-dd HH:mm} UTC, {report.DurationSeconds:0} s)");
        text.AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"Subject from template {report.Method.GetValueOrDefault("template", "?")}; {report.Machine.GetValueOrDefault("summary", "")}.");
        text.AppendLine();
        if (report.Find("soak", "subject") is not { } soak)
        {
            return text.AppendLine("(no soak result)").ToString();
        }

        var f = soak.Figures;
        double F(string name) => f.GetValueOrDefault(name, double.NaN);
        string Mark(bool ok) => ok ? "✅" : "❌";
        text.AppendLine("| check | figure | goal |");
        text.AppendLine("| --- | --- | --- |");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"| GC heap after a full collection, end of warm-up ({F("warm_up_s"):0} s) → end | {Format(F("heap_end_of_warm_up_mib"))} → {Format(F("heap_end_mib"))} MiB ({F("heap_growth_percent"):0.0} %) | < 5 % {Mark(F("heap_growth_percent") < 5)} |");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"| active connections once every client is gone | {Format(F("active_connections_after"))} | 0 {Mark(F("active_connections_after") == 0)} |");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"| every id published to a reader's stream received exactly once, across its reconnects with since | {F("expected_deliveries"):0} expected over {F("readers"):0} readers: {F("missing"):0} missing, {F("duplicates"):0} duplicated, {F("unexpected"):0} unexpected | none {Mark(F("missing") + F("duplicates") + F("unexpected") == 0 && F("expected_deliveries") > 0)} |");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"| clients that never read closed 1008 | {F("non_readers_closed_1008"):0} of {F("non_readers"):0} (the app's close counter: {F("closes_1008_metric"):0}) | all {Mark(F("non_readers_closed_1008") == F("non_readers") || F("closes_1008_metric") >= F("non_readers"))} |");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"| delivery p99, worst 10 s window | {Format(F("p99_ms_max_window"))} ms | |");
        text.AppendLine(CultureInfo.InvariantCulture,
            $"| load | {F("published"):0} published ({F("publish_failures"):0} failed), {F("reconnects"):0} reconnects with since, {F("churn_connects"):0} short connects | |");
        text.AppendLine();
        text.AppendLine("| t (s) | RSS MiB | heap MiB | active | thread-pool queue | p99 ms | delivered |");
        text.AppendLine("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var sample in soak.Samples)
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {sample["t_s"]:0}{(sample["phase"] == 1 ? " (clients gone)" : "")}{(sample.ContainsKey("end_of_warm_up") ? " (end of warm-up)" : "")} | {Format(sample["rss_mib"])} | {Format(sample["heap_mib"])} | {Format(sample["active_connections"])} " +
                $"| {Format(sample["thread_pool_queue_length"])} | {Format(sample["p99_ms"])} | {sample["delivered"]:0} |");
        }

        text.AppendLine();
        foreach (var note in report.Notes.Concat(soak.Notes))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
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

    private static string Goals(Headline headline, double subject, double toSignalR, double toBare)
    {
        var goals = new List<string>();
        if (headline.OwnFigure is { } own)
        {
            goals.Add($"subject {own.ToString().TrimEnd('×')} {Mark(own, subject)}");
        }

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

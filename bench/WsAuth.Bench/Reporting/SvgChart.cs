using System.Globalization;
using System.Net;
using System.Text;

namespace WsAuth.Bench.Reporting;

/// <summary>
/// A hand-written SVG of a run: one small bar chart per headline figure (the three servers side by side), and
/// the fan-out and notification ladders as delivered-per-second against offered rate.
/// </summary>
internal static class SvgChart
{
    private static readonly (string Server, string Label, string Color)[] Servers =
    [
        ("subject", "subject", "#2b6cb0"),
        ("signalr", "SignalR", "#d69e2e"),
        ("bare", "bare", "#718096"),
    ];

    private static readonly (string Scenario, string Figure)[] Panels =
    [
        ("handshake", "connects_per_s"),
        ("idle-memory", "kib_per_socket"),
        ("fanout-socket", "sustained_deliveries_per_s"),
        ("fanout-socket", "p99_ms"),
        ("fanout-http", "sustained_deliveries_per_s"),
        ("fanout-http", "p99_ms"),
        ("notifications", "sustained_deliveries_per_s"),
        ("notifications", "p99_ms"),
        ("echo", "round_trips_per_s"),
        ("echo", "p99_ms"),
    ];

    private const int Width = 1000;
    private const int PanelWidth = 190;
    private const int PanelHeight = 170;
    private const int LadderHeight = 260;

    public static string Render(BenchReport report)
    {
        var panelRows = (Panels.Length + 4) / 5;
        var height = 70 + (panelRows * (PanelHeight + 20)) + LadderHeight + 60;
        var svg = new StringBuilder();
        svg.AppendLine(Invariant($"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{height}" viewBox="0 0 {Width} {height}" font-family="sans-serif" font-size="11">"""));
        svg.AppendLine(Invariant($"""<rect width="{Width}" height="{height}" fill="#ffffff"/>"""));
        svg.AppendLine(Invariant($"""<text x="20" y="28" font-size="17" font-weight="bold">WsAuth bench ({Escape(report.Mode)}, {report.StartedAt:yyyy-MM-dd HH:mm} UTC)</text>"""));
        svg.AppendLine(Invariant($"""<text x="20" y="48" fill="#4a5568">{Escape(report.Machine.GetValueOrDefault("summary", ""))}</text>"""));
        var legendX = Width - 260;
        foreach (var (index, (_, label, color)) in Servers.Index())
        {
            svg.AppendLine(Invariant($"""<rect x="{legendX + (index * 85)}" y="18" width="12" height="12" fill="{color}"/><text x="{legendX + (index * 85) + 16}" y="28">{label}</text>"""));
        }

        foreach (var (index, (scenario, figure)) in Panels.Index())
        {
            var x = 20 + (index % 5 * (PanelWidth + 5));
            var y = 70 + (index / 5 * (PanelHeight + 20));
            var headline = Headlines.All.First(h => h.Scenario == scenario && h.Figure == figure);
            BarPanel(svg, report, headline, x, y);
        }

        var ladderY = 70 + (panelRows * (PanelHeight + 20)) + 10;
        LadderPanel(svg, report, "fanout-socket", "Org fan-out (publish on socket): deliveries/s by offered events/s", 20, ladderY, 470);
        LadderPanel(svg, report, "notifications", "User notifications: deliveries/s by offered sends/s", 510, ladderY, 470);
        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    private static void BarPanel(StringBuilder svg, BenchReport report, Headline headline, int x, int y)
    {
        svg.AppendLine(Invariant($"""<rect x="{x}" y="{y}" width="{PanelWidth}" height="{PanelHeight}" fill="#f7fafc" stroke="#e2e8f0"/>"""));
        svg.AppendLine(Invariant($"""<text x="{x + 8}" y="{y + 16}" font-weight="bold">{Escape(ShortLabel(headline.Label))}</text>"""));
        svg.AppendLine(Invariant($"""<text x="{x + 8}" y="{y + 30}" fill="#4a5568">{(headline.Figure.StartsWith("sustained", StringComparison.Ordinal) ? "sustained " : "")}{Escape(headline.Unit)} {(headline.HigherIsBetter ? "(higher is better)" : "(lower is better)")}</text>"""));
        var values = Servers.Select(server => Headlines.Value(report, headline, server.Server)).ToArray();
        var max = values.Where(value => !double.IsNaN(value)).DefaultIfEmpty(0).Max();
        const int barWidth = 44;
        var chartTop = y + 50;
        var chartHeight = PanelHeight - 80;
        foreach (var (index, (_, label, color)) in Servers.Index())
        {
            var barX = x + 14 + (index * (barWidth + 14));
            var value = values[index];
            var barHeight = max > 0 && !double.IsNaN(value) ? Math.Max(1, value / max * chartHeight) : 0;
            svg.AppendLine(Invariant($"""<rect x="{barX}" y="{chartTop + chartHeight - barHeight:0.0}" width="{barWidth}" height="{barHeight:0.0}" fill="{color}"/>"""));
            svg.AppendLine(Invariant($"""<text x="{barX + (barWidth / 2)}" y="{chartTop + chartHeight - barHeight - 4:0.0}" text-anchor="middle">{MarkdownTable.Format(value)}</text>"""));
            svg.AppendLine(Invariant($"""<text x="{barX + (barWidth / 2)}" y="{chartTop + chartHeight + 14}" text-anchor="middle" fill="#4a5568">{label}</text>"""));
        }
    }

    private static void LadderPanel(StringBuilder svg, BenchReport report, string scenario, string title, int x, int y, int width)
    {
        svg.AppendLine(Invariant($"""<rect x="{x}" y="{y}" width="{width}" height="{LadderHeight}" fill="#f7fafc" stroke="#e2e8f0"/>"""));
        svg.AppendLine(Invariant($"""<text x="{x + 8}" y="{y + 16}" font-weight="bold">{Escape(title)}</text>"""));
        var results = Servers.Select(server => report.Find(scenario, server.Server)).ToArray();
        var rates = results.Where(result => result is not null).SelectMany(result => result!.Steps.Select(step => step.OfferedPerSecond))
            .Distinct().Order().ToArray();
        if (rates.Length == 0)
        {
            return;
        }

        var max = results.Where(result => result is not null).SelectMany(result => result!.Steps.Select(step => step.DeliveriesPerSecond))
            .DefaultIfEmpty(1).Max();
        var left = x + 60;
        var top = y + 30;
        var plotWidth = width - 80;
        var plotHeight = LadderHeight - 70;
        for (var tick = 0; tick <= 4; tick++)
        {
            var tickY = top + plotHeight - (tick * plotHeight / 4.0);
            svg.AppendLine(Invariant($"""<line x1="{left}" y1="{tickY:0.0}" x2="{left + plotWidth}" y2="{tickY:0.0}" stroke="#e2e8f0"/>"""));
            svg.AppendLine(Invariant($"""<text x="{left - 6}" y="{tickY + 4:0.0}" text-anchor="end" fill="#4a5568">{MarkdownTable.Format(max * tick / 4)}</text>"""));
        }

        double X(double rate) => left + (rates.Length == 1 ? plotWidth / 2.0 : Array.IndexOf(rates, rate) * plotWidth / (double)(rates.Length - 1));
        foreach (var rate in rates)
        {
            svg.AppendLine(Invariant($"""<text x="{X(rate):0.0}" y="{top + plotHeight + 16}" text-anchor="middle" fill="#4a5568">{rate:0}</text>"""));
        }

        foreach (var (index, (_, _, color)) in Servers.Index())
        {
            if (results[index] is not { Steps.Count: > 0 } result)
            {
                continue;
            }

            var points = string.Join(' ', result.Steps.Select(step =>
                Invariant($"{X(step.OfferedPerSecond):0.0},{top + plotHeight - (step.DeliveriesPerSecond / max * plotHeight):0.0}")));
            svg.AppendLine(Invariant($"""<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2.5"/>"""));
            foreach (var step in result.Steps)
            {
                svg.AppendLine(Invariant($"""<circle cx="{X(step.OfferedPerSecond):0.0}" cy="{top + plotHeight - (step.DeliveriesPerSecond / max * plotHeight):0.0}" r="3.5" fill="{(step.Sustained ? color : "#ffffff")}" stroke="{color}" stroke-width="2"/>"""));
            }
        }

        svg.AppendLine(Invariant($"""<text x="{left + (plotWidth / 2)}" y="{top + plotHeight + 34}" text-anchor="middle" fill="#4a5568">offered per second (hollow: not sustained, under 99.9 % delivered or p99 over 1 s)</text>"""));
    }

    /// <summary>The soak: one line chart per sampled figure, against time, the end of the warm-up marked.</summary>
    public static string RenderSoak(BenchReport report)
    {
        (string Figure, string Title, string Color)[] series =
        [
            ("rss_mib", "resident set (MiB)", "#2b6cb0"),
            ("heap_mib", "GC heap after a full collection (MiB)", "#2f855a"),
            ("active_connections", "active connections (the app's meter)", "#d69e2e"),
            ("thread_pool_queue_length", "thread-pool queue length", "#718096"),
            ("p99_ms", "delivery p99 per 10 s (ms)", "#c53030"),
        ];
        const int height = 80 + (5 * 150);
        var svg = new StringBuilder();
        svg.AppendLine(Invariant($"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{height}" viewBox="0 0 {Width} {height}" font-family="sans-serif" font-size="11">"""));
        svg.AppendLine(Invariant($"""<rect width="{Width}" height="{height}" fill="#ffffff"/>"""));
        svg.AppendLine(Invariant($"""<text x="20" y="28" font-size="17" font-weight="bold">WsAuth bench soak ({report.StartedAt:yyyy-MM-dd HH:mm} UTC)</text>"""));
        svg.AppendLine(Invariant($"""<text x="20" y="48" fill="#4a5568">{Escape(report.Machine.GetValueOrDefault("summary", ""))}</text>"""));
        var samples = report.Find("soak", "subject")?.Samples ?? [];
        if (samples.Count == 0)
        {
            return svg.AppendLine("</svg>").ToString();
        }

        var end = samples.Max(sample => sample["t_s"]);
        var warmUp = samples.FirstOrDefault(sample => sample.ContainsKey("end_of_warm_up"))?["t_s"];
        foreach (var (index, (figure, title, color)) in series.Index())
        {
            var y = 70 + (index * 150);
            const int left = 80;
            const int plotWidth = Width - 120;
            const int plotHeight = 100;
            var top = y + 22;
            svg.AppendLine(Invariant($"""<rect x="20" y="{y}" width="{Width - 40}" height="140" fill="#f7fafc" stroke="#e2e8f0"/>"""));
            svg.AppendLine(Invariant($"""<text x="28" y="{y + 15}" font-weight="bold">{Escape(title)}</text>"""));
            var values = samples.Select(sample => (T: sample["t_s"], V: sample.GetValueOrDefault(figure, double.NaN))).Where(point => !double.IsNaN(point.V)).ToList();
            var max = values.Select(point => point.V).DefaultIfEmpty(1).Max();
            max = max <= 0 ? 1 : max * 1.1;
            double X(double t) => left + (end <= 0 ? 0 : t / end * plotWidth);
            double Y(double v) => top + plotHeight - (v / max * plotHeight);
            foreach (var tick in new[] { 0.0, 0.5, 1.0 })
            {
                svg.AppendLine(Invariant($"""<line x1="{left}" y1="{Y(max * tick):0.0}" x2="{left + plotWidth}" y2="{Y(max * tick):0.0}" stroke="#e2e8f0"/>"""));
                svg.AppendLine(Invariant($"""<text x="{left - 6}" y="{Y(max * tick) + 4:0.0}" text-anchor="end" fill="#4a5568">{MarkdownTable.Format(max * tick)}</text>"""));
            }

            if (warmUp is { } w)
            {
                svg.AppendLine(Invariant($"""<line x1="{X(w):0.0}" y1="{top}" x2="{X(w):0.0}" y2="{top + plotHeight}" stroke="#a0aec0" stroke-dasharray="4 3"/><text x="{X(w) + 4:0.0}" y="{top + 10}" fill="#4a5568">end of warm-up</text>"""));
            }

            svg.AppendLine(Invariant($"""<text x="{left + plotWidth}" y="{top + plotHeight + 14}" text-anchor="end" fill="#4a5568">{end:0} s</text>"""));
            if (values.Count > 0)
            {
                svg.AppendLine(Invariant($"""<polyline points="{string.Join(' ', values.Select(point => Invariant($"{X(point.T):0.0},{Y(point.V):0.0}")))}" fill="none" stroke="{color}" stroke-width="2"/>"""));
                foreach (var point in values)
                {
                    svg.AppendLine(Invariant($"""<circle cx="{X(point.T):0.0}" cy="{Y(point.V):0.0}" r="2.5" fill="{color}"/>"""));
                }
            }
        }

        svg.AppendLine("</svg>");
        return svg.ToString();
    }

    /// <summary>A panel is narrow: the fan-out rows' labels are shortened to fit.</summary>
    private static string ShortLabel(string label) => label
        .Replace("Org fan-out, publish on socket", "Fan-out, socket publish", StringComparison.Ordinal)
        .Replace("Org fan-out, publish over HTTP", "Fan-out, HTTP publish", StringComparison.Ordinal);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}

namespace WsAuth.Bench.Reporting;

/// <summary>
/// One row of the table: a figure of a scenario, whether higher is better, and the goals it is held to (on the
/// ratio to a peer, or on the subject's own figure when the figure is itself a ratio).
/// </summary>
internal sealed record Headline(
    string Scenario, string Label, string Figure, string Unit, bool HigherIsBetter,
    Goal? AgainstSignalR = null, Goal? AgainstBare = null, Goal? OwnFigure = null);

/// <summary>A goal on the ratio subject/peer: at least (or at most) <see cref="Ratio"/>.</summary>
internal sealed record Goal(double Ratio, bool AtLeast)
{
    public bool IsMet(double ratio) => AtLeast ? ratio >= Ratio : ratio <= Ratio;

    public override string ToString() => $"{(AtLeast ? "≥" : "≤")} {Ratio:0.0#}×";

    /// <summary>The goals of issue 13 (bench/README.md, Results).</summary>
    public static Goal Min(double ratio) => new(ratio, true);

    public static Goal Max(double ratio) => new(ratio, false);
}

internal static class Headlines
{
    /// <summary>
    /// The table's rows, in order. The socket-published fan-out is the headline fan-out figure (see the
    /// README), and its headline is the sustained rate (<c>sustained_deliveries_per_s</c>, see
    /// <c>RateLadder</c>); the saturated maximum (<c>max_deliveries_per_s</c>) is shown beside it, without a goal.
    /// </summary>
    public static IReadOnlyList<Headline> All { get; } =
    [
        new("handshake", "Handshakes", "connects_per_s", "connects/s", true, Goal.Min(1.5)),
        new("idle-memory", "Idle memory", "kib_per_socket", "KiB/socket (RSS)", false, Goal.Max(0.5)),
        new("idle-memory", "Idle memory", "kib_per_socket_private", "KiB/socket (private)", false),
        new("idle-memory", "Idle memory", "kib_per_socket_marginal", "KiB/socket, second half only (RSS)", false),
        new("fanout-socket", "Org fan-out, publish on socket", "sustained_deliveries_per_s", "deliveries/s", true, Goal.Min(1.5), Goal.Min(0.8)),
        new("fanout-socket", "Org fan-out, publish on socket", "max_deliveries_per_s", "deliveries/s", true),
        new("fanout-socket", "Org fan-out, publish on socket", "p50_ms", "p50 ms", false),
        new("fanout-socket", "Org fan-out, publish on socket", "p99_ms", "p99 ms", false, Goal.Max(1.0)),
        new("fanout-http", "Org fan-out, publish over HTTP", "sustained_deliveries_per_s", "deliveries/s", true, Goal.Min(1.5)),
        new("fanout-http", "Org fan-out, publish over HTTP", "max_deliveries_per_s", "deliveries/s", true),
        new("fanout-http", "Org fan-out, publish over HTTP", "p50_ms", "p50 ms", false),
        new("fanout-http", "Org fan-out, publish over HTTP", "p99_ms", "p99 ms", false, Goal.Max(1.0)),
        new("notifications", "User notifications", "sustained_deliveries_per_s", "deliveries/s", true, Goal.Min(1.0)),
        new("notifications", "User notifications", "max_deliveries_per_s", "deliveries/s", true),
        new("notifications", "User notifications", "p50_ms", "p50 ms", false),
        new("notifications", "User notifications", "p99_ms", "p99 ms", false, Goal.Max(1.0)),
        new("cluster", "Cluster fan-out, 2 instances + Redis", "sustained_deliveries_per_s", "deliveries/s", true, Goal.Min(1.5)),
        new("cluster", "Cluster fan-out, 2 instances + Redis", "max_deliveries_per_s", "deliveries/s", true),
        new("cluster", "Cluster fan-out, 2 instances + Redis", "p99_ms", "p99 ms", false),
        new("cluster", "Cluster fan-out, 2 instances + Redis", "vs_one_instance", "sustained ÷ the same server's one-instance socket fan-out", true, OwnFigure: Goal.Min(0.6)),
        new("echo", "Echo", "round_trips_per_s", "round trips/s", true),
        new("echo", "Echo", "p50_ms", "p50 ms", false),
        new("echo", "Echo", "p99_ms", "p99 ms", false, Goal.Max(1.0)),
    ];

    public static double Value(BenchReport report, Headline headline, string server) =>
        report.Find(headline.Scenario, server)?.Figures.GetValueOrDefault(headline.Figure, double.NaN) ?? double.NaN;

    public static double Ratio(double subject, double peer) =>
        double.IsNaN(subject) || double.IsNaN(peer) || peer == 0 ? double.NaN : subject / peer;
}

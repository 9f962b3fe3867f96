namespace WsAuth.Bench;

/// <summary>What one run measures and how hard: <c>--quick</c> (the default, under three minutes) or <c>--full</c>.</summary>
internal sealed record BenchProfile
{
    public required string Name { get; init; }

    /// <summary>Bench users seeded into the subject, spread over <see cref="Organizations"/> organizations.</summary>
    public required int Users { get; init; }

    public int Organizations { get; init; } = 10;

    /// <summary>Connects in flight at once while sockets are opened.</summary>
    public int ConnectConcurrency { get; init; } = 64;

    public required int HandshakeSockets { get; init; }

    public required int HandshakeRuns { get; init; }

    /// <summary>Idle sockets held open for the memory figure; capped by the file-descriptor limit.</summary>
    public required int IdleSockets { get; init; }

    public required int IdleRuns { get; init; }

    public required int FanOutSockets { get; init; }

    /// <summary>Events published per second (over all organizations), one step each.</summary>
    public required int[] FanOutRates { get; init; }

    /// <summary>Notifications sent per second, one step each.</summary>
    public required int[] NotificationRates { get; init; }

    /// <summary>The fan-out rate at which every server's latency is compared: one the subject sustains.</summary>
    public required int FanOutReferenceRate { get; init; }

    /// <summary>The notification rate at which every server's latency is compared.</summary>
    public required int NotificationReferenceRate { get; init; }

    public required TimeSpan StepDuration { get; init; }

    /// <summary>How long a step waits after its last publish for the deliveries still on their way.</summary>
    public required TimeSpan Drain { get; init; }

    public required int LadderRuns { get; init; }

    /// <summary>Sockets on the users' own streams, for the notification and echo scenarios.</summary>
    public int UserSockets { get; init; } = 1000;

    public required TimeSpan EchoDuration { get; init; }

    public required int EchoRuns { get; init; }

    public required TimeSpan WarmUp { get; init; }

    /// <summary>The group-send warm-up before each ladder: a fan-out at the reference rate for this long.</summary>
    public required TimeSpan GroupWarmUp { get; init; }

    /// <summary>After a run's first unsustained step, how many steps bisect between it and the last sustained one.</summary>
    public required int Bisections { get; init; }

    /// <summary>
    /// How long each server is connected to and disconnected from before anything is measured: long enough
    /// for the runtime to move the hot paths to optimized code (see <c>BenchRunner.WarmUpAsync</c>).
    /// </summary>
    public required TimeSpan ServerWarmUp { get; init; }

    /// <summary>The whole run stops by itself after this long, whatever state it is in.</summary>
    public required TimeSpan Deadline { get; init; }

    public static BenchProfile Quick { get; } = new()
    {
        Name = "quick",
        Users = 560,
        HandshakeSockets = 500,
        HandshakeRuns = 3,
        IdleSockets = 2000,
        IdleRuns = 1,
        FanOutSockets = 2000,
        FanOutRates = [100, 400, 1600],
        FanOutReferenceRate = 100,
        NotificationRates = [100, 800, 6400],
        NotificationReferenceRate = 100,
        StepDuration = TimeSpan.FromSeconds(1),
        Drain = TimeSpan.FromSeconds(1),
        LadderRuns = 1,
        EchoDuration = TimeSpan.FromSeconds(1),
        EchoRuns = 2,
        WarmUp = TimeSpan.FromSeconds(0.5),
        GroupWarmUp = TimeSpan.FromSeconds(1),
        Bisections = 0,
        ServerWarmUp = TimeSpan.FromSeconds(4),
        Deadline = TimeSpan.FromMinutes(10),
    };

    public static BenchProfile Full { get; } = new()
    {
        Name = "full",
        Users = 2200,
        HandshakeSockets = 2000,
        HandshakeRuns = 5,
        IdleSockets = 20_000,
        IdleRuns = 3,
        FanOutSockets = 10_000,
        FanOutRates = [10, 30, 100, 300, 1000],
        FanOutReferenceRate = 30,
        NotificationRates = [100, 300, 1000, 3000, 10000],
        NotificationReferenceRate = 100,
        StepDuration = TimeSpan.FromSeconds(2.5),
        Drain = TimeSpan.FromSeconds(1.5),
        LadderRuns = 3,
        EchoDuration = TimeSpan.FromSeconds(3),
        EchoRuns = 5,
        WarmUp = TimeSpan.FromSeconds(1),
        GroupWarmUp = TimeSpan.FromSeconds(5),
        Bisections = 2,
        ServerWarmUp = TimeSpan.FromSeconds(40),
        Deadline = TimeSpan.FromMinutes(30),
    };
}

internal sealed record BenchOptions(
    BenchProfile Profile, IReadOnlyList<string> Servers, IReadOnlyList<string> Scenarios, bool KeepTemp, string? SubjectDirectory = null,
    TimeSpan? Soak = null, bool PerfMap = false, bool Presence = false)
{
    public static readonly string[] AllServers = ["subject", "signalr", "bare"];

    public static readonly string[] AllScenarios = ["idle", "handshake", "fanout", "notifications", "echo", "cluster", "joins"];

    /// <summary>
    /// What a run measures when no <c>--scenarios</c> is given: everything in full mode; everything but the
    /// cluster in quick mode, which must stay under 3 minutes (the cluster's five processes take about a minute).
    /// </summary>
    public static IReadOnlyList<string> DefaultScenarios(BenchProfile profile) =>
        [.. AllScenarios.Where(scenario => scenario != "joins" && (scenario != "cluster" || profile.Name != "quick"))];

    public static BenchOptions? Parse(string[] args)
    {
        var profile = BenchProfile.Quick;
        var servers = AllServers.ToList();
        List<string>? scenarios = null;
        var keepTemp = false;
        var perfMap = false;
        var presence = false;
        string? subject = null;
        TimeSpan? soak = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quick":
                    profile = BenchProfile.Quick;
                    break;
                case "--full":
                    profile = BenchProfile.Full;
                    break;
                case "--servers" when i + 1 < args.Length:
                    servers = [.. args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
                    if (servers.Count == 0 || servers.Except(AllServers).Any())
                    {
                        return null;
                    }

                    break;
                case "--scenarios" when i + 1 < args.Length:
                    scenarios = [.. args[++i].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
                    if (scenarios.Count == 0 || scenarios.Except(AllScenarios).Any())
                    {
                        return null;
                    }

                    break;
                case "--subject" when i + 1 < args.Length:
                    subject = Path.GetFullPath(args[++i]);
                    if (!Directory.Exists(subject) || Directory.GetFiles(subject, "*.slnx").Length != 1 || !Directory.Exists(Path.Combine(subject, "src")))
                    {
                        return null;
                    }

                    break;
                case "--soak":
                    soak ??= TimeSpan.FromMinutes(10);
                    break;
                case "--soak-minutes" when i + 1 < args.Length:
                    if (!double.TryParse(args[++i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var minutes)
                        || minutes <= 0 || minutes > 600)
                    {
                        return null;
                    }

                    soak = TimeSpan.FromMinutes(minutes);
                    break;
                case "--keep-temp":
                    keepTemp = true;
                    break;
                case "--perf-map":
                    perfMap = true;
                    break;
                case "--presence":
                    presence = true;
                    break;
                default:
                    return null;
            }
        }

        servers = [.. AllServers.Where(servers.Contains)];
        if (soak is { } length)
        {
            // The soak is the subject's alone, and nothing else runs with it.
            profile = profile with { Name = "soak", Deadline = length + TimeSpan.FromMinutes(10) };
            return new BenchOptions(profile, ["subject"], ["soak"], keepTemp, subject, length, perfMap);
        }

        var measured = scenarios ?? DefaultScenarios(profile);
        return new BenchOptions(profile, servers, [.. AllScenarios.Where(measured.Contains)], keepTemp, subject, PerfMap: perfMap, Presence: presence);
    }

    public const string Usage = """
        usage: dotnet run -c Release --project bench/WsAuth.Bench -- [--quick | --full] [--servers LIST] [--scenarios LIST] [--subject DIR] [--keep-temp] [--perf-map] [--presence]
               dotnet run -c Release --project bench/WsAuth.Bench -- --soak [--soak-minutes N] [--subject DIR] [--keep-temp]
          --quick       every scenario but the cluster against every server, small and short (the default; under 3 minutes)
          --full        the figures for the README: every scenario, more sockets, longer steps, more runs
          --servers     a subset of subject,signalr,bare (the subject always starts: it issues the users' tokens)
          --scenarios   a subset of idle,handshake,fanout,notifications,echo,cluster,joins (cluster: two instances of the subject
                        and of SignalR behind one redis-server; the bare peer has no backplane and is left out; joins: the idle
                        and handshake figures on organization streams, each connect a presence join; only when named)
          --subject     measure the app in DIR (a solution generated by dotnet new wsauth, perhaps with a change to try)
                        instead of instantiating template/; its app.db is deleted first
          --soak        the subject alone under steady mixed load (churn, reconnects with since, events, notifications,
                        clients that never read) for 10 minutes, sampled every 10 s; nothing else runs
          --soak-minutes N   the soak's length instead of 10 minutes (implies --soak)
          --keep-temp   keep bench/results/tmp (the generated app, its database and the server logs)
          --presence    run the subject with presence on (WebSockets:Presence:Enabled=true; off by default, as the peers have
                        none): compare its rows with a run without it (--scenarios joins for the cost of presence itself)
          --perf-map    start each server with DOTNET_PerfMapEnabled=1 and DOTNET_EnableWriteXorExecute=0 (for perf record -g -p PID; the pid
                        is written to bench/results/tmp/logs/NAME.pid)
        """;
}

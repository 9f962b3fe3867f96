using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using WsAuth.Bench.Infrastructure;
using WsAuth.Bench.Load;
using WsAuth.Bench.Reporting;
using WsAuth.Bench.Scenarios;
using WsAuth.Bench.Servers;

namespace WsAuth.Bench;

/// <summary>
/// One run: instantiate and build the servers, then for each in turn start it pinned to its own core, run
/// every scenario against it, and stop it; then write the results (JSON, SVG) and print the table.
/// </summary>
internal sealed class BenchRunner(BenchOptions options, BenchPaths paths)
{
    private const int ServerCore = 0;
    private const int GeneratorCore = 1;

    /// <summary>The subject's default <c>WebSockets:MaxConnectionsPerUser</c>, which the benchmark leaves alone.</summary>
    private const int MaxConnectionsPerUser = 10;

    /// <summary>Tokens live 15 minutes (the template's default); older than this, they are renewed before the peers run.</summary>
    private static readonly TimeSpan TokenRenewalAge = TimeSpan.FromMinutes(4);

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var profile = options.Profile;
        var clock = Stopwatch.StartNew();
        PrepareTemp();

        var cores = ProcessStats.ReadMachineCores();
        var pin = Command.Exists("taskset") && cores >= 2;
        var openFiles = ProcessStats.ReadOpenFilesLimit();
        var ports = ProcessStats.ReadEphemeralPortCount();
        // Each socket is a file in the generator and in the server; keep room for everything else either has open.
        var idleSockets = Math.Min(profile.IdleSockets, Math.Min(openFiles - 1000, ports - 2000));
        idleSockets = Math.Min(idleSockets, profile.Users * (MaxConnectionsPerUser - 1));

        var report = new BenchReport
        {
            Mode = profile.Name,
            StartedAt = DateTimeOffset.UtcNow,
            Machine = MachineInfo(cores, openFiles, ports, pin),
            Method = MethodInfo(profile, idleSockets, pin),
        };
        report.Method["template"] = options.SubjectDirectory is { } existing
            ? $"(not used: the app in {existing}, --subject)"
            : await DescribeTemplateAsync(cancellationToken);
        if (idleSockets < profile.IdleSockets)
        {
            report.Notes.Add($"idle memory measured at {idleSockets:N0} sockets, not {profile.IdleSockets:N0}: the open-files limit here is {openFiles:N0} " +
                "per process (ulimit -n; raising it needs CAP_SYS_RESOURCE) and both the generator and the server hold one file per socket");
        }

        if (!pin)
        {
            report.Notes.Add("server and generator were not pinned to separate cores (taskset missing or a single core)");
        }

        ServerProcess.PerfMap = options.PerfMap;
        if (options.PerfMap)
        {
            report.Notes.Add("servers ran with DOTNET_PerfMapEnabled=1 and DOTNET_EnableWriteXorExecute=0 (--perf-map), perhaps under perf: not a run to compare");
        }

        var subject = new SubjectServer(paths, options.SubjectDirectory, options.Presence);
        if (options.Presence)
        {
            report.Notes.Add("the subject ran with presence on (--presence): its rows are not comparable with a run without it");
        }
        // The subject always starts: it issues the tokens every server is measured with.
        var servers = new List<ServerUnderTest> { subject };
        if (options.Servers.Contains("signalr"))
        {
            servers.Add(new SignalRServer(paths));
        }

        if (options.Servers.Contains("bare"))
        {
            servers.Add(new BareServer(paths));
        }

        var records = servers.ToDictionary(server => server.Name, server => new ServerRecord
        {
            Name = server.Name,
            Description = server.Description,
            Settings = server.Settings,
        });

        // The subject is instantiated and built first; then it starts and seeds on the server's core while the
        // peers build on the generator's.
        Progress.Write(options.SubjectDirectory is null
            ? $"{profile.Name} run: instantiating the template (dotnet new wsauth) into {Path.GetRelativePath(paths.Root, Path.Combine(paths.Temp, "subject"))}"
            : $"{profile.Name} run: the subject is the app in {options.SubjectDirectory}");
        await subject.PrepareAsync(profile, cancellationToken);
        Progress.Write("building the subject (dotnet build -c Release)");
        await BuildAsync(subject, null, records, cancellationToken);
        var world = subject.World!;

        Progress.Write($"subject: starting{(pin ? $" on core {ServerCore}" : "")}; building the peers meanwhile{(pin ? $" on core {GeneratorCore}" : "")}");
        var subjectStarted = Stopwatch.StartNew();
        var subjectStarting = subject.StartAsync(world, profile, pin ? ServerCore : null, cancellationToken);
        await Task.WhenAll(servers.Where(server => server != subject).Select(server => BuildAsync(server, pin ? GeneratorCore : null, records, cancellationToken)));

        if (pin)
        {
            // Every thread of this process, present and future (they inherit it), on the generator's core.
            (await Command.RunAsync("taskset", ["-a", "-cp", GeneratorCore.ToString(CultureInfo.InvariantCulture), Environment.ProcessId.ToString(CultureInfo.InvariantCulture)],
                paths.Root, TimeSpan.FromSeconds(10), cancellationToken)).EnsureSuccess("Pinning the generator");
        }

        foreach (var server in servers)
        {
            var started = server == subject ? subjectStarted : Stopwatch.StartNew();
            if (server != subject)
            {
                Progress.Write($"{server.Name}: starting{(pin ? $" on core {ServerCore}" : "")}");
            }

            await using (var session = server == subject ? await subjectStarting : await server.StartAsync(world, profile, pin ? ServerCore : null, cancellationToken))
            {
                records[server.Name].StartSeconds = Math.Round(started.Elapsed.TotalSeconds, 1);
                report.Servers.Add(records[server.Name]);
                Progress.Write($"{server.Name}: ready after {started.Elapsed.TotalSeconds:0.0} s (pid {session.Server.Pid}, port {session.Server.Port})");

                if (!options.Servers.Contains(server.Name))
                {
                    Progress.Write($"{server.Name}: not measured (--servers); it only issued the tokens");
                }
                else if (options.Scenarios.Any(scenario => scenario != ClusterScenario.Name))
                {
                    await RunScenariosAsync(session, report, idleSockets, cancellationToken);
                }

                if (server == subject && DateTimeOffset.UtcNow - world.TokensIssuedAt > TokenRenewalAge)
                {
                    // The peers validate the subject's tokens after it has stopped: give them a fresh lifetime.
                    Progress.Write("subject: renewing every user's token for the peers");
                    await SubjectServer.SignInAllAsync(session, cancellationToken);
                }

                Progress.Write($"{server.Name}: stopping");
            }

            if (options.Scenarios.Contains(ClusterScenario.Name) && options.Servers.Contains(server.Name)
                && await ClusterScenario.RunAsync(server, world, profile, pin ? ServerCore : null, paths, cancellationToken) is { } cluster)
            {
                report.Scenarios.Add(cluster);
                Progress.Write($"{server.Name}: cluster stopped");
            }
        }

        foreach (var cluster in report.Scenarios.Where(scenario => scenario.Scenario == ClusterScenario.Name))
        {
            // The cluster's sustained figure against the same server's own one instance (fan-out, socket publish).
            if (report.Find(FanOutScenario.NameFor(PublishPath.Socket), cluster.Server) is { } one
                && one.Figures.GetValueOrDefault("sustained_deliveries_per_s") is > 0 and var single)
            {
                cluster.Figures["vs_one_instance"] = Math.Round(cluster.Figures["sustained_deliveries_per_s"] / single, 3);
            }
        }

        report.DurationSeconds = Math.Round(clock.Elapsed.TotalSeconds, 1);
        var table = options.Soak is null ? MarkdownTable.Render(report) : MarkdownTable.RenderSoak(report);
        await WriteResultsAsync(report, table, cancellationToken);
        if (!options.KeepTemp)
        {
            TryDelete(paths.Temp);
        }

        Console.WriteLine();
        Console.WriteLine(table);
        return 0;
    }

    private async Task RunScenariosAsync(ServerSession session, BenchReport report, int idleSockets, CancellationToken cancellationToken)
    {
        var scenarios = options.Scenarios;
        if (options.Soak is { } soak)
        {
            await WarmUpAsync(session, session.Profile.ServerWarmUp, cancellationToken);
            report.Scenarios.Add(await SoakScenario.RunAsync(session, soak, cancellationToken));
            return;
        }

        // Memory first, after a short warm-up: the long one below leaves the heap larger than the sockets
        // need (the runtime keeps what it grew), and the idle figure is a difference of resident sizes.
        await WarmUpAsync(session, TimeSpan.Zero, cancellationToken);
        if (scenarios.Contains("idle"))
        {
            report.Scenarios.Add(await IdleMemoryScenario.RunAsync(session, idleSockets, cancellationToken));
        }

        if (scenarios.Contains("joins"))
        {
            report.Scenarios.Add(await IdleMemoryScenario.RunAsync(session, idleSockets, cancellationToken, orgStreams: true));
        }

        await WarmUpAsync(session, session.Profile.ServerWarmUp, cancellationToken);

        if (scenarios.Contains("handshake"))
        {
            report.Scenarios.Add(await HandshakeScenario.RunAsync(session, cancellationToken));
        }

        if (scenarios.Contains("joins"))
        {
            report.Scenarios.Add(await HandshakeScenario.RunAsync(session, cancellationToken, orgStreams: true));
        }

        if (scenarios.Contains("fanout"))
        {
            using var organizations = await OpenAsync(session, FanOutScenario.Targets(session), cancellationToken);
            report.Scenarios.Add(await FanOutScenario.RunAsync(session, organizations, PublishPath.Socket, cancellationToken));
            report.Scenarios.Add(await FanOutScenario.RunAsync(session, organizations, PublishPath.Http, cancellationToken));
            await organizations.CloseAsync();
        }

        if (scenarios.Contains("notifications") || scenarios.Contains("echo"))
        {
            using var own = await OpenAsync(session, HandshakeScenario.Targets(session.World.Users, session.Profile.UserSockets, offset: 0), cancellationToken);
            // Echo first: the notification ladder ends by saturating the server, and a server that stores
            // each notification may still be working through its backlog when the CPU looks idle.
            if (scenarios.Contains("echo"))
            {
                report.Scenarios.Add(await EchoScenario.RunAsync(session, own, cancellationToken));
            }

            if (scenarios.Contains("notifications"))
            {
                report.Scenarios.Add(await NotificationsScenario.RunAsync(session, own, cancellationToken));
            }

            await own.CloseAsync();
        }
    }

    private static async Task BuildAsync(ServerUnderTest server, int? core, Dictionary<string, ServerRecord> records, CancellationToken cancellationToken)
    {
        var built = Stopwatch.StartNew();
        await server.BuildAsync(core, cancellationToken);
        records[server.Name].BuildSeconds = Math.Round(built.Elapsed.TotalSeconds, 1);
    }

    /// <summary>
    /// Connects and disconnects in batches, pausing between them as the measured runs do, for at least
    /// <paramref name="duration"/> (<see cref="BenchProfile.ServerWarmUp"/> before the timed scenarios). The runtime starts every method unoptimized and recompiles
    /// the hot ones in the background; for an app of the subject's size on one core that takes tens of
    /// seconds of load, and a measurement taken earlier says more about the JIT than about the server.
    /// </summary>
    internal static async Task WarmUpAsync(ServerSession session, TimeSpan duration, CancellationToken cancellationToken)
    {
        var profile = session.Profile;
        var elapsed = Stopwatch.StartNew();
        var rates = new List<string>();
        for (var batch = 0; batch == 0 || elapsed.Elapsed < duration; batch++)
        {
            var targets = HandshakeScenario.Targets(session.World.Users, profile.HandshakeSockets, offset: batch * profile.HandshakeSockets);
            using var set = await SocketSet.OpenAsync(session, targets, cancellationToken);
            rates.Add($"{set.Sockets.Count / set.Elapsed.TotalSeconds:0}");
            await set.CloseAsync();
            await session.WaitForQuietAsync(cancellationToken);
        }

        Progress.Write($"  {session.Name,-8} warm-up: {rates.Count} batches of {profile.HandshakeSockets} connects in {elapsed.Elapsed.TotalSeconds:0} s, connects/s {string.Join(" ", rates)}");
    }

    /// <summary>Opens the sockets several scenarios share, and lets joins that finish after the welcome land.</summary>
    private static async Task<SocketSet> OpenAsync(ServerSession session, IReadOnlyList<SocketTarget> targets, CancellationToken cancellationToken)
    {
        var set = await SocketSet.OpenAsync(session, targets, cancellationToken);
        await Task.Delay(TimeSpan.FromMilliseconds(300), cancellationToken);
        return set;
    }

    private void PrepareTemp()
    {
        TryDelete(paths.Temp);
        Directory.CreateDirectory(paths.Temp);
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // Left for the next run to clear.
        }
    }

    private async Task WriteResultsAsync(BenchReport report, string table, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(paths.Results);
        var json = JsonSerializer.Serialize(report, new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            WriteIndented = true,
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        });
        var stamp = report.StartedAt.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        var chart = options.Soak is null ? SvgChart.Render(report) : SvgChart.RenderSoak(report);
        var files = new Dictionary<string, string>
        {
            [$"{report.Mode}-{stamp}.json"] = json,
            ["latest.json"] = json,
            ["latest.md"] = table,
            ["latest.svg"] = chart,
        };

        // quick.md/.svg and full.md/.svg are the figures of complete runs of the template only.
        var complete = options.Soak is null && options.SubjectDirectory is null
            && options.Servers.Count == BenchOptions.AllServers.Length
            && options.Scenarios.SequenceEqual(BenchOptions.DefaultScenarios(options.Profile));
        if (complete)
        {
            files[$"{report.Mode}.md"] = table;
            files[$"{report.Mode}.svg"] = chart;
        }
        foreach (var (name, content) in files)
        {
            await File.WriteAllTextAsync(Path.Combine(paths.Results, name), content, cancellationToken);
        }

        Progress.Write($"results: {string.Join(", ", files.Keys.Select(name => Path.Combine("bench", "results", name)))}");
    }

    /// <summary>Which template the subject was generated from: the commit, and whether template/ had changes on top of it.</summary>
    private async Task<string> DescribeTemplateAsync(CancellationToken cancellationToken)
    {
        var commit = await Command.RunAsync("git", ["rev-parse", "--short", "HEAD"], paths.Root, TimeSpan.FromSeconds(10), cancellationToken);
        var changes = await Command.RunAsync("git", ["status", "--porcelain", "--", "template", ".template.config"], paths.Root, TimeSpan.FromSeconds(10), cancellationToken);
        return commit.ExitCode != 0
            ? "not a git checkout"
            : $"commit {commit.Output.Trim()}{(changes.Output.Trim().Length > 0 ? " with uncommitted changes to template/" : "")}";
    }

    private static Dictionary<string, string> MachineInfo(int cores, int openFiles, int ports, bool pinned)
    {
        var memory = File.ReadLines("/proc/meminfo").First().Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        var gib = long.Parse(memory, CultureInfo.InvariantCulture) / 1024.0 / 1024.0;
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(line => line.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?";
        return new Dictionary<string, string>
        {
            ["summary"] = $"{cores} cores ({cpu}), {gib:0} GiB, {RuntimeInformation.OSDescription}, .NET {Environment.Version}" +
                (pinned ? "; server on core 0, generator on core 1" : ""),
            ["cores"] = cores.ToString(CultureInfo.InvariantCulture),
            ["cpu"] = cpu,
            ["memoryGiB"] = gib.ToString("0.0", CultureInfo.InvariantCulture),
            ["os"] = RuntimeInformation.OSDescription,
            ["runtime"] = RuntimeInformation.FrameworkDescription,
            ["openFilesLimit"] = openFiles.ToString(CultureInfo.InvariantCulture),
            ["ephemeralPorts"] = ports.ToString(CultureInfo.InvariantCulture),
            ["pinned"] = pinned ? "server: core 0; generator: core 1" : "no",
        };
    }

    private static Dictionary<string, string> MethodInfo(BenchProfile profile, int idleSockets, bool pinned) => new()
    {
        ["client"] = "System.Net.WebSockets.ClientWebSocket, one process, one receive loop per socket; SignalR spoken as its JSON hub protocol over a raw WebSocket (skipNegotiation)",
        ["users"] = $"{profile.Users} bench users in {profile.Organizations} organizations, tokens from the subject's POST /token, used against every server",
        ["handshake"] = $"{profile.HandshakeSockets} connects, {profile.ConnectConcurrency} in flight, until welcome / {{}}; median of {profile.HandshakeRuns}",
        ["idleMemory"] = $"{idleSockets} sockets; RSS read after an induced full GC; (RSS with all open − RSS before the first run) ÷ sockets, median of {profile.IdleRuns}; " +
            "the first run also gives the second half's growth ÷ its sockets",
        ["fanOut"] = $"{profile.FanOutSockets} sockets over {profile.Organizations} organizations; events/s {string.Join(", ", profile.FanOutRates)}; " +
            $"{profile.StepDuration.TotalSeconds:0.#} s per step; median of {profile.LadderRuns}",
        ["notifications"] = $"{profile.UserSockets} sockets over {Math.Min(profile.Users, profile.UserSockets)} users; sends/s {string.Join(", ", profile.NotificationRates)}; " +
            $"{profile.StepDuration.TotalSeconds:0.#} s per step; median of {profile.LadderRuns}",
        ["echo"] = $"{profile.UserSockets} sockets, ≤ 18 round trips/s each, {profile.EchoDuration.TotalSeconds:0.#} s; median of {profile.EchoRuns}",
        ["payload"] = $"data {{\"ts\":…,\"pad\":\"{Payload.PadLength} × x\"}} in every published message, for every server",
        ["pinning"] = pinned
            ? "server: taskset -c 0 from its start; generator: DOTNET_PROCESSOR_COUNT=1, then taskset -a -cp 1 once the builds are done"
            : "none",
    };
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using WsAuth.Bench.Infrastructure;
using WsAuth.Bench.Load;
using WsAuth.Bench.Reporting;
using WsAuth.Bench.Servers;

namespace WsAuth.Bench.Scenarios;

/// <summary>
/// The subject under steady, mixed load for a while (<c>--soak</c>, 10 minutes by default): readers on
/// organization streams and notification streams that close and reconnect with <c>?since=</c> every few
/// seconds, short-lived connects and disconnects, organization events and notifications over HTTP, and a
/// few clients that never read (the server should close them 1008). Every 10 s: resident set, GC heap
/// after an induced full collection, active connections and thread-pool queue length (the app's and the
/// runtime's meters over the diagnostics port), and the delivery p99 of the window. At the end: the heap's
/// growth from the end of the warm-up, active connections once every client is gone, and, per reader,
/// every id published to its stream received exactly once across its reconnects.
/// </summary>
internal static class SoakScenario
{
    public const string Name = "soak";

    private const string ActiveConnections = "realtime.connections.active";
    private const string Closes = "realtime.connections.closed";
    private const string QueueLength = "dotnet.thread_pool.queue.length";
    private const string HeapSize = "dotnet.gc.last_collection.heap.size";

    private static readonly TimeSpan SampleEvery = TimeSpan.FromSeconds(10);
    private const int OrgReadersPerOrg = 20;
    private const int NotificationReaders = 100;
    private const int NonReaders = 4;
    private const double EventsPerSecond = 10;
    private const double NotificationsPerSecond = 10;
    private const int ChurnPerSecond = 5;
    /// <summary>Large events to the non-readers' organization until they are closed: their backlog fills the server's 4 MB bound quickly.</summary>
    private const int LargePadBytes = 48 * 1024;
    private const double LargeEventsPerSecond = 8;

    public static async Task<ScenarioResult> RunAsync(ServerSession session, TimeSpan duration, CancellationToken cancellationToken)
    {
        var result = new ScenarioResult { Scenario = Name, Server = session.Name };
        var world = session.World;
        var warmUp = TimeSpan.FromSeconds(Math.Max(SampleEvery.TotalSeconds, duration.TotalSeconds / 10));
        await using var metrics = await MetricsListener.StartAsync(
            session.Server.Pid, [session.MeterName ?? "Bench.Subject", "System.Runtime"], [ActiveConnections, Closes, QueueLength, HeapSize], cancellationToken);
        if (metrics is null)
        {
            result.Notes.Add("no metrics session over the diagnostics port: active connections and queue length are missing");
        }

        // Who publishes what to which stream: ids from the API's 202 {"id":N}.
        var published = new ConcurrentDictionary<string, ConcurrentBag<long>>();
        var latency = new LatencyRecorder(1_000_000);
        long delivered = 0, reconnects = 0, churned = 0, publishFailures = 0;

        var readers = world.Orgs.SelectMany(org => org.Members.Skip(1).Take(OrgReadersPerOrg).Select(user => new Reader(new SocketTarget(Endpoint.Organization, user, org), $"org:{org.Index}")))
            .Concat(world.Users.Take(NotificationReaders).Select(user => new Reader(new SocketTarget(Endpoint.Notifications, user), $"user:{user.Index}")))
            .ToList();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var stopChurn = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);

        // Readers first (each with since=0, so each expects every id of its stream), then the load.
        await Parallel.ForEachAsync(readers, new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken },
            async (reader, token) => await reader.ConnectAsync(session, OnRecord, token));
        var readerLoops = readers.Select(reader => ChurnReaderAsync(reader, stopChurn.Token)).ToList();

        var nonReaders = await OpenNonReadersAsync(session, world.Orgs[0], cancellationToken);
        var clock = Stopwatch.StartNew();
        var publishing = new List<Task>
        {
            PaceAsync(EventsPerSecond, index =>
            {
                var org = world.Orgs[index % world.Orgs.Count];
                return PublishAsync(session.Protocol.HttpPublish(org, Stopwatch.GetTimestamp(), index), $"org:{org.Index}");
            }, stop.Token),
            PaceAsync(NotificationsPerSecond, index =>
            {
                var user = world.Users[index % NotificationReaders];
                return PublishAsync(session.Protocol.Notify(user, world, Stopwatch.GetTimestamp(), index), $"user:{user.Index}");
            }, stop.Token),
            PaceAsync(LargeEventsPerSecond, async index =>
            {
                if (metrics is not null && metrics.Total(Closes, "code=1008") >= NonReaders || clock.Elapsed > duration / 2)
                {
                    return;
                }

                var org = world.Orgs[0];
                var body = "{\"type\":\"large\",\"data\":{\"ts\":" + Stopwatch.GetTimestamp().ToString(System.Globalization.CultureInfo.InvariantCulture)
                    + ",\"pad\":\"" + new string('y', LargePadBytes) + "\"}}";
                using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/orgs/{org.IdText}/events")
                {
                    Content = new StringContent(body, Encoding.UTF8, "application/json"),
                };
                request.Headers.Authorization = new("Bearer", org.Admin.Token);
                await PublishAsync(request, $"org:{org.Index}");
            }, stop.Token),
            ChurnAsync(stopChurn.Token),
        };

        // Samples every 10 s until the end.
        double? heapAtWarmUp = null;
        var next = SampleEvery;
        while (clock.Elapsed < duration)
        {
            var wait = next - clock.Elapsed;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, cancellationToken);
            }

            var sample = await SampleAsync("load");
            if (heapAtWarmUp is null && clock.Elapsed >= warmUp)
            {
                heapAtWarmUp = sample["heap_mib"];
                sample["end_of_warm_up"] = 1;
            }

            next += SampleEvery;
        }

        var heapAtEnd = result.Samples[^1]["heap_mib"];
        var rssAtEnd = result.Samples[^1]["rss_mib"];
        Progress.Write("  soak: stopping the load; readers stay connected until everything has arrived");
        await stop.CancelAsync();
        await stopChurn.CancelAsync();
        await Task.WhenAll(publishing.Concat(readerLoops).Select(task => task.ContinueWith(_ => { }, TaskScheduler.Default)));
        // The readers reconnect one last time (with since) and then read what is left.
        await Parallel.ForEachAsync(readers.Where(reader => !reader.IsOpen), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = cancellationToken },
            async (reader, token) => await reader.ConnectAsync(session, OnRecord, token));
        var drainUntil = Stopwatch.GetTimestamp() + (15 * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < drainUntil && readers.Any(reader => reader.Count < Expected(reader).Count))
        {
            await Task.Delay(100, cancellationToken);
        }

        var nonReaderCodes = await FinishNonReadersAsync(nonReaders);
        await Parallel.ForEachAsync(readers, new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken },
            async (reader, _) => await reader.CloseAsync());
        await Task.Delay(TimeSpan.FromSeconds(3), cancellationToken);
        var final = await SampleAsync("clients gone");

        // Exactly once, per reader, across its reconnects.
        long expectedTotal = 0, missing = 0, duplicates = 0, extras = 0, readersWrong = 0;
        foreach (var reader in readers)
        {
            var expected = Expected(reader);
            var received = reader.Ids;
            var distinct = received.ToHashSet();
            var lost = expected.Count(id => !distinct.Contains(id));
            var twice = received.Count - distinct.Count;
            var unknown = distinct.Count(id => !expected.Contains(id));
            expectedTotal += expected.Count;
            missing += lost;
            duplicates += twice;
            extras += unknown;
            if (lost + twice + unknown > 0)
            {
                readersWrong++;
                if (readersWrong <= 5)
                {
                    result.Notes.Add($"reader {reader.Stream} ({reader.Target.User.Name}): {lost} missing, {twice} duplicated, {unknown} not published by the soak");
                }
            }
        }

        var figures = result.Figures;
        figures["duration_s"] = Math.Round(clock.Elapsed.TotalSeconds, 1);
        figures["warm_up_s"] = warmUp.TotalSeconds;
        figures["readers"] = readers.Count;
        figures["reconnects"] = reconnects;
        figures["churn_connects"] = churned;
        figures["published"] = published.Values.Sum(bag => bag.Count);
        figures["publish_failures"] = publishFailures;
        figures["expected_deliveries"] = expectedTotal;
        figures["missing"] = missing;
        figures["duplicates"] = duplicates;
        figures["unexpected"] = extras;
        figures["readers_wrong"] = readersWrong;
        figures["heap_end_of_warm_up_mib"] = heapAtWarmUp ?? double.NaN;
        figures["heap_end_mib"] = heapAtEnd;
        figures["heap_growth_percent"] = heapAtWarmUp is { } atWarmUp ? Math.Round((heapAtEnd - atWarmUp) / atWarmUp * 100, 2) : double.NaN;
        figures["rss_end_mib"] = rssAtEnd;
        figures["active_connections_after"] = final["active_connections"];
        figures["non_readers"] = nonReaders.Count;
        figures["non_readers_closed_1008"] = nonReaderCodes.Count(code => code == 1008);
        figures["closes_1008_metric"] = metrics?.Total(Closes, "code=1008") ?? double.NaN;
        figures["p99_ms_max_window"] = result.Samples.Where(sample => sample["phase"] == 0).Select(sample => sample["p99_ms"]).Where(v => !double.IsNaN(v)).DefaultIfEmpty(double.NaN).Max();
        result.Notes.Add($"non-readers' close codes as they saw them: {string.Join(", ", nonReaderCodes.Select(code => code?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none (reset)"))}");
        Progress.Write($"  soak: heap {figures["heap_end_of_warm_up_mib"]:0.0} → {heapAtEnd:0.0} MiB ({figures["heap_growth_percent"]:0.0} %), " +
            $"active after {final["active_connections"]}, {expectedTotal} expected deliveries: {missing} missing, {duplicates} duplicated, {extras} unexpected; " +
            $"non-readers closed 1008: {figures["non_readers_closed_1008"]}/{nonReaders.Count} (metric {figures["closes_1008_metric"]})");
        return result;

        IReadOnlySet<long> Expected(Reader reader) =>
            published.TryGetValue(reader.Stream, out var ids) ? ids.ToHashSet() : new HashSet<long>();

        void OnRecord(Reader reader, ReadOnlySpan<byte> record)
        {
            if ((record.IndexOf("\"type\":\"org.event\""u8) >= 0 || record.IndexOf("\"type\":\"notification\""u8) >= 0)
                && Payload.TryReadNumber(record, "\"id\":"u8, out var id))
            {
                reader.Add(id);
                Interlocked.Increment(ref delivered);
                if (Payload.TryReadTimestamp(record, out var ts) && ts >= reader.ConnectedAt)
                {
                    latency.Record(Stopwatch.GetTimestamp() - ts);
                }
            }
        }

        async Task PublishAsync(HttpRequestMessage request, string stream)
        {
            using (request)
            {
                try
                {
                    using var response = await session.Http.SendAsync(request, cancellationToken);
                    if (response.IsSuccessStatusCode && await response.Content.ReadFromJsonAsync<Accepted>(cancellationToken) is { } accepted)
                    {
                        published.GetOrAdd(stream, _ => []).Add(accepted.Id);
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                }

                Interlocked.Increment(ref publishFailures);
            }
        }

        async Task ChurnReaderAsync(Reader reader, CancellationToken token)
        {
            try
            {
                while (!token.IsCancellationRequested)
                {
                    await Task.Delay(TimeSpan.FromSeconds(5 + Random.Shared.NextDouble() * 15), token);
                    await reader.CloseAsync();
                    await reader.ConnectAsync(session, OnRecord, token);
                    Interlocked.Increment(ref reconnects);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        async Task ChurnAsync(CancellationToken token)
        {
            var users = world.Users.Skip(NotificationReaders).Take(100).ToArray();
            var turn = 0;
            try
            {
                while (!token.IsCancellationRequested)
                {
                    var started = Stopwatch.GetTimestamp();
                    var targets = Enumerable.Range(0, ChurnPerSecond).Select(_ => new SocketTarget(Endpoint.Notifications, users[turn++ % users.Length])).ToList();
                    using var set = await SocketSet.OpenAsync(session, targets, token);
                    await set.CloseAsync();
                    Interlocked.Add(ref churned, set.Sockets.Count);
                    var left = TimeSpan.FromSeconds(1) - Stopwatch.GetElapsedTime(started);
                    if (left > TimeSpan.Zero)
                    {
                        await Task.Delay(left, token);
                    }
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        async Task<Dictionary<string, double>> SampleAsync(string phase)
        {
            var window = latency.Summarize();
            latency.Reset();
            var windowDelivered = Interlocked.Exchange(ref delivered, 0);
            await InducedGc.CollectAsync(session.Server.Pid, cancellationToken);
            // The heap-size instrument is refreshed every second: read it after the collection is published.
            await Task.Delay(TimeSpan.FromSeconds(1.5), cancellationToken);
            var memory = ProcessStats.ReadMemory(session.Server.Pid);
            var sample = new Dictionary<string, double>
            {
                ["t_s"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
                ["phase"] = phase == "load" ? 0 : 1,
                ["rss_mib"] = Math.Round(memory.RssBytes / 1048576.0, 1),
                ["heap_mib"] = Math.Round((metrics?.Latest(HeapSize) ?? double.NaN) / 1048576.0, 2),
                ["active_connections"] = metrics?.Latest(ActiveConnections) ?? double.NaN,
                ["thread_pool_queue_length"] = metrics?.Latest(QueueLength) ?? double.NaN,
                ["p99_ms"] = window.P99,
                ["p50_ms"] = window.P50,
                ["delivered"] = windowDelivered,
                ["threads"] = memory.Threads,
            };
            result.Samples.Add(sample);
            Progress.Write($"  soak {sample["t_s"],5:0} s ({phase}): RSS {sample["rss_mib"]:0.0} MiB, heap {sample["heap_mib"]:0.00} MiB, " +
                $"{sample["active_connections"]} active, queue {sample["thread_pool_queue_length"]}, p99 {window.P99:0.0} ms, {windowDelivered} delivered");
            return sample;
        }
    }

    /// <summary>Calls <paramref name="publish"/> at <paramref name="rate"/> a second, open loop, until stopped.</summary>
    private static async Task PaceAsync(double rate, Func<int, Task> publish, CancellationToken token)
    {
        var started = Stopwatch.GetTimestamp();
        var inFlight = new List<Task>();
        try
        {
            for (var index = 0; !token.IsCancellationRequested; index++)
            {
                var due = TimeSpan.FromSeconds(index / rate) - Stopwatch.GetElapsedTime(started);
                if (due > TimeSpan.Zero)
                {
                    await Task.Delay(due, token);
                }

                inFlight.Add(publish(index));
                inFlight.RemoveAll(task => task.IsCompleted);
            }
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(inFlight);
    }

    /// <summary>Sockets on <paramref name="org"/> that never read, with a small receive buffer so the backlog lands on the server.</summary>
    private static async Task<List<ClientWebSocket>> OpenNonReadersAsync(ServerSession session, BenchOrg org, CancellationToken cancellationToken)
    {
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            ConnectCallback = async (context, token) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 4096 };
                await socket.ConnectAsync(context.DnsEndPoint, token);
                return new NetworkStream(socket, ownsSocket: true);
            },
        }, disposeHandler: false);
        var sockets = new List<ClientWebSocket>();
        foreach (var user in org.Members.Skip(1 + OrgReadersPerOrg).Take(NonReaders))
        {
            var socket = new ClientWebSocket();
            socket.Options.KeepAliveInterval = TimeSpan.Zero;
            var target = new SocketTarget(Endpoint.Organization, user, org);
            session.Protocol.Configure(socket.Options, target);
            await socket.ConnectAsync(session.Protocol.SocketUri(session.Server.BaseUri, target), invoker, cancellationToken);
            sockets.Add(socket);
        }

        return sockets;
    }

    /// <summary>Reads the non-readers at last, to their end: the close code the server sent, or none if it reset them.</summary>
    private static async Task<List<int?>> FinishNonReadersAsync(List<ClientWebSocket> sockets)
    {
        var codes = new List<int?>();
        foreach (var socket in sockets)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var buffer = new byte[64 * 1024];
            try
            {
                while (socket.State is WebSocketState.Open or WebSocketState.CloseSent)
                {
                    var received = await socket.ReceiveAsync(buffer, timeout.Token);
                    if (received.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }
                }
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or IOException)
            {
            }

            codes.Add((int?)socket.CloseStatus);
            socket.Abort();
            socket.Dispose();
        }

        return codes;
    }

    private sealed record Accepted(long Id);

    /// <summary>One reading client of one stream: a socket at a time, the ids it received across all of them.</summary>
    private sealed class Reader(SocketTarget target, string stream)
    {
        private readonly List<long> _ids = [];
        private BenchSocket? _socket;

        public SocketTarget Target { get; } = target;

        public string Stream { get; } = stream;

        public long ConnectedAt { get; private set; }

        public bool IsOpen => _socket?.IsOpen == true;

        public int Count
        {
            get
            {
                lock (_ids)
                {
                    return _ids.Count;
                }
            }
        }

        public List<long> Ids
        {
            get
            {
                lock (_ids)
                {
                    return [.. _ids];
                }
            }
        }

        public void Add(long id)
        {
            lock (_ids)
            {
                _ids.Add(id);
            }
        }

        /// <summary>Connects with <c>since</c> = the last id seen (0 the first time: the stream's whole history).</summary>
        public async Task ConnectAsync(ServerSession session, Action<Reader, ReadOnlySpan<byte>> onRecord, CancellationToken token)
        {
            long since;
            lock (_ids)
            {
                since = _ids.Count == 0 ? 0 : _ids.Max();
            }

            for (var attempt = 0; ; attempt++)
            {
                ConnectedAt = Stopwatch.GetTimestamp();
                var socket = new BenchSocket(Target with { Since = since }, session.Protocol) { Handler = (_, record) => onRecord(this, record) };
                try
                {
                    await socket.ConnectAsync(session.Server.BaseUri, session.SocketInvoker, TimeSpan.FromSeconds(20), token);
                    _socket = socket;
                    return;
                }
                catch (Exception exception) when (attempt < 5 && exception is WebSocketException or HttpRequestException or IOException
                    or OperationCanceledException && !token.IsCancellationRequested)
                {
                    socket.Abort();
                    await Task.Delay(TimeSpan.FromMilliseconds(200 << attempt), token);
                }
            }
        }

        public async Task CloseAsync()
        {
            if (_socket is { } socket)
            {
                await socket.CloseAsync(TimeSpan.FromSeconds(5));
            }
        }
    }
}

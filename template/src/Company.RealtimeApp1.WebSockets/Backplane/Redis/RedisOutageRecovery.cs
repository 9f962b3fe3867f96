using System.Threading.Channels;
using StackExchange.Redis;

namespace Company.RealtimeApp1.WebSockets.Redis;

/// <summary>
/// Losing Redis for a while loses nothing (SPEC §4): publishing goes on storing meanwhile. When every connection
/// is restored and each subscription hears again (StackExchange.Redis resubscribes by itself;
/// <see cref="RedisMessageBus.ProbeAsync"/> confirms it), what this instance stored but could not publish is
/// published (<see cref="RedisMessageBus.RepublishUnsentAsync"/>), the open connections are re-checked, and
/// each socket reads what was stored meanwhile (<see cref="StreamCatchUp.CatchUpAsync"/>). The outage and the
/// recovery are logged once each, with the endpoint only: the connection string may hold a password.
/// As soon as commands reach Redis again, every instance writes its connection leases back (a Redis that restarts
/// empty has lost them), so that <see cref="RealtimeOptions.MaxConnectionsPerUser"/> holds through the outage
/// rather than from the next renewal on.
/// </summary>
internal sealed partial class RedisOutageRecovery(
    IServiceProvider services, StreamCatchUp catchUp, StreamPresence presence, ConnectionLeaseRenewal leaseRenewal, ILogger<RedisOutageRecovery> logger)
    : BackgroundService
{
    /// <summary>How long a resubscription may take to be heard before the catch-up goes ahead regardless.</summary>
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>How often an instance that started while Redis was down looks whether it is up.</summary>
    private static readonly TimeSpan StartPollInterval = TimeSpan.FromMilliseconds(500);

    private readonly Lock _gate = new();
    private readonly HashSet<(string? EndPoint, ConnectionType Type)> _failed = [];
    private readonly Channel<bool> _restored = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private DateTime _lostAt;

    private bool IsDown
    {
        get
        {
            lock (_gate)
            {
                return _failed.Count > 0;
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!RedisBackplane.IsConfigured(services))
        {
            return;
        }

        var redis = services.GetRequiredService<IConnectionMultiplexer>();
        var bus = services.GetRequiredService<RedisMessageBus>();
        redis.ConnectionFailed += OnConnectionFailed;
        redis.ConnectionRestored += OnConnectionRestored;
        if (!redis.IsConnected)
        {
            // Down from the start: what is stored until Redis comes up is caught up as after any outage.
            StartedDown(redis, stoppingToken);
        }

        try
        {
            await foreach (var _ in _restored.Reader.ReadAllAsync(stoppingToken))
            {
                var heard = await bus.ProbeAsync(ProbeTimeout, stoppingToken);
                // Taken before the check: an outage that begins after it is a newer one, which this catch-up leaves alone.
                var epoch = catchUp.Epoch;
                if (IsDown)
                {
                    // Lost again meanwhile: the next restore catches up on both gaps at once.
                    continue;
                }

                if (!heard)
                {
                    Log.NotHeard(logger, ProbeTimeout.TotalSeconds);
                }

                // What this instance stored but could not publish reaches the other instances now: their sockets
                // see the gap it leaves even if nothing is published after it, and fill it from the store.
                var republished = await bus.RepublishUnsentAsync();
                var catchingUp = await catchUp.CatchUpAsync(epoch, stoppingToken);
                // A Redis that restarted empty lost every instance's presence: each writes its own back.
                await RebuildPresenceAsync(stoppingToken);
                Log.Recovered(logger, redis.GetEndPoints().FirstOrDefault()?.ToString(),
                    (DateTime.UtcNow - _lostAt).TotalSeconds, catchingUp, republished);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // The application is stopping.
        }
        finally
        {
            redis.ConnectionFailed -= OnConnectionFailed;
            redis.ConnectionRestored -= OnConnectionRestored;
        }
    }

    private async Task RebuildPresenceAsync(CancellationToken cancellationToken)
    {
        try
        {
            await presence.RebuildAsync(cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            Log.PresenceNotRebuilt(logger, exception);
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs failure)
    {
        lock (_gate)
        {
            var wasUp = _failed.Count == 0;
            if (!_failed.Add((failure.EndPoint?.ToString(), failure.ConnectionType)) || !wasUp)
            {
                return;
            }

            _lostAt = DateTime.UtcNow;
        }

        Log.Lost(logger, failure.EndPoint?.ToString(), failure.FailureType);
        catchUp.Interrupt();
    }

    /// <summary>
    /// The first connection failed before this service listened for failures, so no event will say when it
    /// comes up: it is polled for instead, and its coming up counts as a restore.
    /// </summary>
    private void StartedDown(IConnectionMultiplexer redis, CancellationToken stoppingToken)
    {
        lock (_gate)
        {
            _lostAt = DateTime.UtcNow;
        }

        Log.Lost(logger, redis.GetEndPoints().FirstOrDefault()?.ToString(), ConnectionFailureType.UnableToConnect);
        catchUp.Interrupt();
        _ = Task.Run(async () =>
        {
            using var poll = new PeriodicTimer(StartPollInterval);
            try
            {
                while (!redis.IsConnected)
                {
                    await poll.WaitForNextTickAsync(stoppingToken);
                }

                leaseRenewal.RenewNow();
                _restored.Writer.TryWrite(true);
            }
            catch (OperationCanceledException)
            {
                // The application stopped before Redis came up.
            }
        }, CancellationToken.None);
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs restored)
    {
        if (restored.ConnectionType == ConnectionType.Interactive)
        {
            // Leases go over the interactive connection: written back at once, whether or not pub/sub is back yet.
            leaseRenewal.RenewNow();
        }

        lock (_gate)
        {
            if (!_failed.Remove((restored.EndPoint?.ToString(), restored.ConnectionType)) || _failed.Count > 0)
            {
                return;
            }
        }

        _restored.Writer.TryWrite(true);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Lost the connection to Redis at {EndPoint}: {FailureType}. Messages are stored meanwhile; open sockets get them when it returns")]
        public static partial void Lost(ILogger logger, string? endPoint, ConnectionFailureType failureType);

        [LoggerMessage(2, LogLevel.Information, "Reconnected to Redis at {EndPoint} after {Seconds:0.0} s: {Memberships} socket memberships catching up from the store, {Republished} streams' newest unpublished messages published")]
        public static partial void Recovered(ILogger logger, string? endPoint, double seconds, int memberships, int republished);

        [LoggerMessage(4, LogLevel.Warning, "Could not write this instance's presence back to Redis after it returned; the next renewal does")]
        public static partial void PresenceNotRebuilt(ILogger logger, Exception exception);

        [LoggerMessage(3, LogLevel.Warning, "A Redis subscription was not heard again within {Seconds} s of reconnecting; catching up regardless")]
        public static partial void NotHeard(ILogger logger, double seconds);
    }
}

using System.ComponentModel.DataAnnotations;
using System.Threading.Channels;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// The per-user connection count across every instance (<see cref="RealtimeOptions.MaxConnectionsPerUser"/>):
/// a connection holds a lease while it is open, renewed by its instance and released when it ends, so that
/// an instance that dies without releasing its leases stops counting once they expire.
/// </summary>
internal interface IConnectionLeases
{
    /// <summary>Takes a lease for the connection unless its user already holds <paramref name="max"/> of them.</summary>
    ValueTask<bool> TryAcquireAsync(Guid userId, string connectionId, int max);

    /// <summary>Extends the leases of these open connections, in one batch.</summary>
    ValueTask RenewAsync(IReadOnlyCollection<RealtimeConnection> connections);

    ValueTask ReleaseAsync(Guid userId, string connectionId);
}

/// <summary>
/// One instance serving alone: <see cref="ConnectionRegistry"/>'s count of this instance's connections,
/// checked before any lease is asked for, is already the count on all instances.
/// </summary>
internal sealed class LocalConnectionLeases : IConnectionLeases
{
    public ValueTask<bool> TryAcquireAsync(Guid userId, string connectionId, int max) => ValueTask.FromResult(true);

    public ValueTask RenewAsync(IReadOnlyCollection<RealtimeConnection> connections) => ValueTask.CompletedTask;

    public ValueTask ReleaseAsync(Guid userId, string connectionId) => ValueTask.CompletedTask;
}

/// <summary>Bound from <c>WebSockets:ConnectionLeases</c>: how long a connection's lease on its user's count lasts.</summary>
internal sealed class ConnectionLeaseOptions
{
    public const string SectionName = "WebSockets:ConnectionLeases";

    /// <summary>
    /// How long a lease counts without being renewed: the longest an instance that died without a goodbye
    /// keeps counting toward its users' caps (SPEC §4: within 60 s).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan Duration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often each instance renews the leases of its open connections; well below <see cref="Duration"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00")]
    public TimeSpan RenewInterval { get; set; } = TimeSpan.FromSeconds(20);
}

[OptionsValidator]
internal sealed partial class ConnectionLeaseOptionsValidator : IValidateOptions<ConnectionLeaseOptions>;

/// <summary>
/// Renews the leases of this instance's open connections every <see cref="ConnectionLeaseOptions.RenewInterval"/>,
/// in batches, and at once when asked (<see cref="RenewNow"/>). A connection that ended while its batch was renewed
/// is released again afterwards, so a renewal racing its release cannot leave a lease behind.
/// </summary>
internal sealed class ConnectionLeaseRenewal(
    ConnectionRegistry registry, IConnectionLeases leases, IOptions<ConnectionLeaseOptions> options, TimeProvider time)
    : BackgroundService
{
    private const int BatchSize = 500;

    private readonly Channel<bool> _renewNow = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    /// <summary>
    /// Renews every lease now rather than at the next tick: the store may have lost them (a Redis that restarted
    /// empty), and until they are back every instance counts too few and would admit sockets beyond the cap.
    /// Asks made while a renewal waits to start are one renewal.
    /// </summary>
    public void RenewNow() => _renewNow.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (leases is LocalConnectionLeases)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.RenewInterval, time);
        var tick = timer.WaitForNextTickAsync(stoppingToken).AsTask();
        var asked = _renewNow.Reader.WaitToReadAsync(stoppingToken).AsTask();
        try
        {
            while (true)
            {
                var woken = await Task.WhenAny(tick, asked);
                if (woken == tick)
                {
                    if (!await tick)
                    {
                        return;
                    }

                    tick = timer.WaitForNextTickAsync(stoppingToken).AsTask();
                }
                else
                {
                    await asked;
                    _renewNow.Reader.TryRead(out _);
                    asked = _renewNow.Reader.WaitToReadAsync(stoppingToken).AsTask();
                }

                await RenewAsync();
            }
        }
        catch (OperationCanceledException)
        {
            // The application is stopping.
        }
    }

    internal async Task RenewAsync()
    {
        foreach (var batch in registry.All.Where(connection => connection.Leased).Chunk(BatchSize))
        {
            await leases.RenewAsync(batch);
            foreach (var ended in batch.Where(connection => !registry.Contains(connection.Id)))
            {
                await leases.ReleaseAsync(ended.Identity.UserId, ended.Id);
            }
        }
    }
}

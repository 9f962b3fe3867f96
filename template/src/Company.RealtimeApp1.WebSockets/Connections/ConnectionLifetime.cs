using System.Net.WebSockets;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// Holds every connection to the token it was opened (or last refreshed) with: once a second it warns
/// the connections whose token expires within <c>WebSockets:ExpiryWarning</c> (<c>auth.expiring</c>) and
/// closes those whose token has expired with 4001. One sweep for all sockets costs less than a timer each.
/// </summary>
internal sealed class ConnectionExpiry(ConnectionRegistry registry, IOptions<RealtimeOptions> options, TimeProvider time)
    : BackgroundService
{
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(SweepInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Sweep(time.GetUtcNow());
            }
        }
        catch (OperationCanceledException)
        {
            // The application is stopping.
        }
    }

    internal void Sweep(DateTimeOffset now)
    {
        var warning = options.Value.ExpiryWarning;
        foreach (var connection in registry.All)
        {
            var expiresAt = connection.Identity.ExpiresAt;
            if (now >= expiresAt)
            {
                connection.Close(CloseCodes.Unauthorized, "token expired");
            }
            else if (!connection.ExpiryWarned && now >= expiresAt - warning)
            {
                connection.ExpiryWarned = true;
                connection.TrySend(new AuthExpiringMessage(expiresAt), RealtimeJsonContext.Default.AuthExpiringMessage);
            }
        }
    }
}

/// <summary>When the application stops, every socket is closed with 1001 before the server waits for requests to end.</summary>
internal sealed class ConnectionShutdown(ConnectionRegistry registry, IHostApplicationLifetime lifetime) : IHostedService
{
    private CancellationTokenRegistration _stopping;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _stopping = lifetime.ApplicationStopping.Register(() =>
            registry.CloseAll(WebSocketCloseStatus.EndpointUnavailable, "server shutting down"));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.DisposeAsync();
        // Give the close handshakes a moment, so the host does not cut sockets off mid-close.
        while (registry.Count > 0 && !cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(50, CancellationToken.None);
        }
    }
}

using Microsoft.Extensions.Hosting;

namespace Company.RealtimeApp1.Tests;

/// <summary>The test host itself: it must stop the app as <c>dotnet run</c> does, or tests fail on what production never sees.</summary>
public sealed class RealtimeApplicationTests
{
    [Fact]
    public async Task DisposingTheAppStopsEachHostedServiceOnce()
    {
        var counter = new StopCounter();
        var app = RealtimeApplication.With([], services: services => services.AddSingleton<IHostedService>(counter));
        _ = app.ServerAddress;

        await app.DisposeAsync();

        Assert.Equal(1, counter.Stops);
    }

    private sealed class StopCounter : IHostedService
    {
        private int _stops;

        public int Stops => Volatile.Read(ref _stops);

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _stops);
            // Long enough for a second, concurrent stop to arrive while this one runs.
            await Task.Delay(200, CancellationToken.None);
        }
    }
}

using System.Diagnostics.Metrics;
using Company.RealtimeApp1.Realtime;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace Company.RealtimeApp1.Tests;

public sealed class RealtimeMetricsTests
{
    [Fact]
    public async Task ConnectionsMessagesAndClosesAreCounted()
    {
        using var app = new RealtimeApplication();
        var meters = app.Services.GetRequiredService<IMeterFactory>();
        using var active = new MetricCollector<long>(meters, RealtimeMetrics.MeterName, "realtime.connections.active");
        using var received = new MetricCollector<long>(meters, RealtimeMetrics.MeterName, "realtime.messages.received");
        using var sent = new MetricCollector<long>(meters, RealtimeMetrics.MeterName, "realtime.messages.sent");
        using var closed = new MetricCollector<long>(meters, RealtimeMetrics.MeterName, "realtime.connections.closed");
        var (_, token) = await app.SignInNewUserAsync();

        await using (var socket = await app.ConnectAsync(EchoConsumer.Path, token))
        {
            await socket.ReceiveJsonAsync("welcome");
            await socket.SendJsonAsync(new { type = "ping" });
            await socket.ReceiveJsonAsync("pong");
            Assert.Equal(1, active.GetMeasurementSnapshot().EvaluateAsCounter());
        }

        await closed.WaitForMeasurementsAsync(1, TimeSpan.FromSeconds(10));
        Assert.Equal(0, active.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(1, received.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(2, sent.GetMeasurementSnapshot().EvaluateAsCounter());
        Assert.Equal(1000, Assert.Single(closed.GetMeasurementSnapshot()).Tags["code"]);
    }

    [Fact]
    public async Task AServerCloseTheClientNeverAnswersIsCountedWithTheCodeTheServerSent()
    {
        using var app = RealtimeApplication.With(new() { ["WebSockets:CloseTimeout"] = "00:00:01" });
        var meters = app.Services.GetRequiredService<IMeterFactory>();
        using var closed = new MetricCollector<long>(meters, RealtimeMetrics.MeterName, "realtime.connections.closed");
        var (_, token) = await app.SignInNewUserAsync();
        await using var socket = await app.ConnectAsync(EchoConsumer.Path, token);
        await socket.ReceiveJsonAsync("welcome");

        // A binary frame: the server closes 1003; the client reads the close but never answers it.
        await socket.Socket.SendAsync(new byte[] { 1 }, System.Net.WebSockets.WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        Assert.Equal((1003, "binary messages are not supported"), await socket.ReceiveCloseAsync());
        await Assert.ThrowsAsync<System.Net.WebSockets.WebSocketException>(async () =>
        {
            using var bound = new CancellationTokenSource(TestSocket.Timeout);
            while (true)
            {
                await socket.SendJsonAsync(new { type = "ping" });
                await Task.Delay(50, bound.Token);
            }
        });
        await closed.WaitForMeasurementsAsync(1, TimeSpan.FromSeconds(10));

        Assert.Equal(1003, Assert.Single(closed.GetMeasurementSnapshot()).Tags["code"]);
    }

    [Fact]
    public async Task RefusedHandshakesAreCountedByReason()
    {
        using var app = new RealtimeApplication();
        using var failures = new MetricCollector<long>(
            app.Services.GetRequiredService<IMeterFactory>(), RealtimeMetrics.MeterName, "realtime.handshake.failures");

        await using var socket = await app.ConnectAsync(EchoConsumer.Path);
        await socket.ReceiveCloseAsync();

        var failure = Assert.Single(failures.GetMeasurementSnapshot());
        Assert.Equal("missing_token", failure.Tags["reason"]);
    }
}

using System.Diagnostics.Metrics;
using Company.RealtimeApp1.WebSockets;
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
        // The wait may end inside the server's Add, on its thread: off it, before the app is stopped.
        await Task.Yield();
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
        // The wait may end inside the server's Add, on its thread: off it, before the app is stopped.
        await Task.Yield();

        Assert.Equal(1003, Assert.Single(closed.GetMeasurementSnapshot()).Tags["code"]);
    }

    [Fact]
    public async Task AClientThatDropsWithoutACloseIsCountedAs1006()
    {
        using var app = new RealtimeApplication();
        var meters = app.Services.GetRequiredService<IMeterFactory>();
        using var closed = new MetricCollector<long>(meters, RealtimeMetrics.MeterName, "realtime.connections.closed");
        var (_, token) = await app.SignInNewUserAsync();
        await using var socket = await app.ConnectAsync(EchoConsumer.Path, token);
        await socket.ReceiveJsonAsync("welcome");

        socket.Socket.Abort();

        await closed.WaitForMeasurementsAsync(1, TimeSpan.FromSeconds(10));
        // The wait may end inside the server's Add, on its thread: off it, before the app is stopped.
        await Task.Yield();

        Assert.Equal(1006, Assert.Single(closed.GetMeasurementSnapshot()).Tags["code"]);
    }

    [Fact]
    public async Task ASlowConsumerThatNeverReadsIsCountedAs1008()
    {
        using var app = RealtimeApplication.With(new()
        {
            ["WebSockets:CloseTimeout"] = "00:00:01",
            ["WebSockets:OutboundQueueMessages"] = "64",
            ["WebSockets:OutboundQueueBytes"] = "1048576",
        });
        var meters = app.Services.GetRequiredService<IMeterFactory>();
        using var closed = new MetricCollector<long>(meters, RealtimeMetrics.MeterName, "realtime.connections.closed");
        var (_, token) = await app.SignInNewUserAsync();
        var stream = Guid.NewGuid().ToString("N");
        // A small receive buffer: the client's kernel takes little, so the backlog stays on the server.
        using var invoker = new HttpMessageInvoker(new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var tcp = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { ReceiveBufferSize = 4096 };
                await tcp.ConnectAsync(context.DnsEndPoint, cancellationToken);
                return new System.Net.Sockets.NetworkStream(tcp, ownsSocket: true);
            },
        });
        using var client = new System.Net.WebSockets.ClientWebSocket();
        client.Options.SetRequestHeader("Authorization", "Bearer " + token);
        await client.ConnectAsync(app.WebSocketUri($"{EchoConsumer.Path}/{stream}"), invoker, CancellationToken.None);
        var publisher = app.Services.GetRequiredService<StreamPublisher>();

        // The client never reads: the socket's buffers fill, then its queue, and the close frame itself
        // can never be written, so the socket is aborted CloseTimeout later.
        var frame = Flood.OfSize(32 * 1024);
        for (var i = 0; i < 400 && closed.GetMeasurementSnapshot().Count == 0; i++)
        {
            await publisher.PublishAsync(EchoConsumer.StreamFor(stream), frame, Flood.TypeInfo);
            // Slowly, as events come: the socket's send is long stuck when its queue overflows.
            await Task.Delay(10);
        }

        await closed.WaitForMeasurementsAsync(1, TimeSpan.FromSeconds(10));
        // The wait may end inside the server's Add, on its thread: off it, before the app is stopped.
        await Task.Yield();

        Assert.Equal(1008, Assert.Single(closed.GetMeasurementSnapshot()).Tags["code"]);
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

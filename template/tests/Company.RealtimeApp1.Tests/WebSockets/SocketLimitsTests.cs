using Company.RealtimeApp1.WebSockets;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Company.RealtimeApp1.Tests;

/// <summary>No client may hurt the server or other clients: every limit closes with its own code.</summary>
public sealed class SocketLimitsTests(RealtimeApplication app) : IClassFixture<RealtimeApplication>
{
    [Fact]
    public async Task AMessageOverTheLimitClosesWith1009()
    {
        await using var socket = await ConnectAsync();

        await socket.SendTextAsync($$"""{"type":"ping","pad":"{{new string('x', 64 * 1024)}}"}""");

        Assert.Equal((1009, "message too big"), await socket.ReceiveCloseAsync());
    }

    [Fact]
    public async Task TheLimitCountsAcrossFragments()
    {
        await using var socket = await ConnectAsync();
        var fragment = Encoding.UTF8.GetBytes(new string('x', 16 * 1024));

        for (var i = 0; i < 5 && socket.Socket.State == WebSocketState.Open; i++)
        {
            try
            {
                await socket.Socket.SendAsync(fragment, WebSocketMessageType.Text, endOfMessage: false, CancellationToken.None);
            }
            catch (WebSocketException)
            {
                break;
            }
        }

        Assert.Equal((1009, "message too big"), await socket.ReceiveCloseAsync());
    }

    [Fact]
    public async Task AMessageJustUnderTheLimitIsAccepted()
    {
        await using var socket = await ConnectAsync();
        var prefix = """{"type":"ping","id":1,"pad":" """.TrimEnd();
        var message = prefix + new string('x', (64 * 1024) - prefix.Length - 2) + "\"}";

        await socket.SendTextAsync(message);

        Assert.Equal(64 * 1024, Encoding.UTF8.GetByteCount(message));
        Assert.Equal(1, (await socket.ReceiveJsonAsync("pong")).GetProperty("id").GetInt32());
    }

    [Fact]
    public async Task ABinaryFrameClosesWith1003()
    {
        await using var socket = await ConnectAsync();

        await socket.Socket.SendAsync(new byte[] { 1, 2, 3 }, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);

        Assert.Equal((1003, "binary messages are not supported"), await socket.ReceiveCloseAsync());
    }

    /// <summary>
    /// The framework's WebSocket finds this one and aborts right after writing its close frame: each of 200
    /// sockets must still get that frame (6 % arrived as a dropped or reset connection before the hold).
    /// </summary>
    [Fact]
    public async Task InvalidUtf8ClosesWith1007EveryTime()
    {
        var codes = await InLanesAsync(async token =>
        {
            await using var socket = await app.ConnectAsync(EchoConsumer.Path, token);
            await socket.ReceiveJsonAsync("welcome");
            await socket.Socket.SendAsync(new byte[] { 0x7B, 0xC3, 0x28, 0x7D }, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            return (await socket.ReceiveCloseAsync()).Code;
        });

        Assert.Equal(Enumerable.Repeat(1007, 200), codes);
    }

    /// <summary>Opcode 3 is reserved (RFC 6455 §5.2): the framework's WebSocket fails the connection with 1002, its own close.</summary>
    [Fact]
    public async Task AFrameWithAReservedOpcodeClosesWith1002EveryTime()
    {
        var codes = await InLanesAsync(async token =>
        {
            await using var socket = await RawWebSocket.ConnectAsync(app.ServerAddress, EchoConsumer.Path, token);
            await socket.SendRawAsync([0x83, 0x80, 0x00, 0x00, 0x00, 0x00]);
            return await socket.ReceiveCloseCodeAsync();
        });

        Assert.Equal(Enumerable.Repeat(1002, 200), codes);
    }

    [Fact]
    public async Task MessagesBeyondTheRateAndBurstCloseWith4029()
    {
        await using var socket = await ConnectAsync();

        for (var i = 0; i < 60; i++)
        {
            await socket.SendJsonAsync(new { type = "ping", id = i });
        }

        var pongs = 0;
        while (true)
        {
            var (type, payload) = await socket.ReceiveAsync();
            if (type == WebSocketMessageType.Close)
            {
                break;
            }

            Assert.Equal("pong", JsonDocument.Parse(payload).RootElement.GetProperty("type").GetString());
            pongs++;
        }

        Assert.Equal((WebSocketCloseStatus)4029, socket.Socket.CloseStatus);
        Assert.Equal("too many messages", socket.Socket.CloseStatusDescription);
        Assert.InRange(pongs, 40, 45);
    }

    [Fact]
    public async Task OneConnectionMoreThanTheUserMayHaveClosesWith4029()
    {
        using var capped = RealtimeApplication.With(new() { ["WebSockets:MaxConnectionsPerUser"] = "2" });
        var (_, token) = await capped.SignInNewUserAsync();
        await using var first = await capped.ConnectAsync(EchoConsumer.Path, token);
        await using var second = await capped.ConnectAsync(EchoConsumer.Path, token);
        await first.ReceiveJsonAsync("welcome");
        await second.ReceiveJsonAsync("welcome");

        await using var third = await capped.ConnectAsync(EchoConsumer.Path, token);
        var (_, otherToken) = await capped.SignInNewUserAsync();
        await using var otherUser = await capped.ConnectAsync(EchoConsumer.Path, otherToken);

        Assert.Equal((4029, "too many connections"), await third.ReceiveCloseAsync());
        await otherUser.ReceiveJsonAsync("welcome");
        await first.SendJsonAsync(new { type = "ping" });
        await first.ReceiveJsonAsync("pong");
    }

    [Fact]
    public async Task AClientThatDoesNotReadIsClosedWith1008WhileOthersKeepReceiving()
    {
        using var small = RealtimeApplication.With(new()
        {
            ["WebSockets:OutboundQueueMessages"] = "256",
            ["WebSockets:OutboundQueueBytes"] = "2097152",
        });
        var (_, slowToken) = await small.SignInNewUserAsync();
        var (_, fastToken) = await small.SignInNewUserAsync();
        var stream = Guid.NewGuid().ToString("N");
        await using var slow = await small.ConnectAsync($"{EchoConsumer.Path}/{stream}", slowToken);
        await using var fast = await small.ConnectAsync($"{EchoConsumer.Path}/{stream}", fastToken);
        await slow.ReceiveJsonAsync("welcome");
        await fast.ReceiveJsonAsync("welcome");
        await fast.SendJsonAsync(new { type = "ping" });
        await fast.ReceiveJsonAsync("pong");

        const int messages = 600;
        var flood = Flood.OfSize(32 * 1024);
        var publisher = small.Services.GetRequiredService<StreamPublisher>();
        var received = 0;
        var reading = Task.Run(async () =>
        {
            while (received < messages)
            {
                await fast.ReceiveJsonAsync("flood");
                received++;
            }
        });
        for (var i = 0; i < messages; i++)
        {
            // Publish only as fast as the reading client reads, so that only the other one falls behind.
            while (i - Volatile.Read(ref received) > 32 && !reading.IsCompleted)
            {
                await Task.Delay(1);
            }

            await publisher.PublishAsync(EchoConsumer.StreamFor(stream), flood, Flood.TypeInfo);
        }

        await reading;
        var (code, reason) = await slow.ReceiveCloseAsync();

        Assert.Equal(messages, received);
        Assert.Equal((1008, "slow consumer"), (code, reason));
    }

    [Fact]
    public async Task AServerFaultClosesWith1011AndIsLoggedWithTheConnectionId()
    {
        using var broken = new RealtimeApplication();
        var (_, token) = await broken.SignInNewUserAsync();
        await using var socket = await broken.ConnectAsync(EchoConsumer.Path, token);
        var connectionId = (await socket.ReceiveJsonAsync("welcome")).GetProperty("connectionId").GetString()!;

        await socket.SendJsonAsync(new { type = "fault" });

        Assert.Equal((1011, "server error"), await socket.ReceiveCloseAsync());
        Assert.Contains(broken.Logs.GetSnapshot(), record =>
            record.Level == Microsoft.Extensions.Logging.LogLevel.Error
            && record.Message == $"Connection {connectionId} failed; closing it with 1011"
            && record.Exception is not null);
    }

    [Fact]
    public async Task AClientThatDoesNotAnswerKeepAlivePingsIsCutOff()
    {
        using var keepAlive = RealtimeApplication.With(new()
        {
            ["WebSockets:KeepAliveInterval"] = "00:00:01",
            ["WebSockets:KeepAliveTimeout"] = "00:00:01",
        });
        var (_, token) = await keepAlive.SignInNewUserAsync();
        await using var socket = await keepAlive.ConnectAsync(EchoConsumer.Path, token);
        await socket.ReceiveJsonAsync("welcome");

        // A ClientWebSocket answers pings only while a receive is pending: not receiving is not answering.
        await Task.Delay(TimeSpan.FromSeconds(4));

        await Assert.ThrowsAsync<WebSocketException>(async () =>
        {
            await socket.SendJsonAsync(new { type = "ping" });
            await socket.ReceiveAsync();
        });
    }

    /// <summary>A client gone without a FIN (a lost network, a sleeping laptop) sends nothing that would wake the server's read.</summary>
    [Fact]
    public async Task AClientThatNeitherSendsNorAnswersPingsIsDroppedByTheKeepAlive()
    {
        using var keepAlive = RealtimeApplication.With(new()
        {
            ["WebSockets:KeepAliveInterval"] = "00:00:01",
            ["WebSockets:KeepAliveTimeout"] = "00:00:01",
        });
        var (_, token) = await keepAlive.SignInNewUserAsync();
        await using var socket = await RawWebSocket.ConnectAsync(keepAlive.ServerAddress, EchoConsumer.Path, token);

        Assert.True(await socket.ServerHangsUpWithinAsync(TimeSpan.FromSeconds(10)));
    }

    /// <summary>
    /// Runs <paramref name="closeCode"/> (one socket, the code it was closed with) 200 times: four lanes at once,
    /// a user each, 50 sockets one after another in each. The framework's WebSocket aborts right after writing its own close frame,
    /// and 6 % of such closes arrived as a dropped or reset connection before the hold.
    /// </summary>
    private async Task<List<int>> InLanesAsync(Func<string, Task<int>> closeCode)
    {
        var lanes = Enumerable.Range(0, 4).Select(async _ =>
        {
            var (_, token) = await app.SignInNewUserAsync();
            var laneCodes = new List<int>();
            for (var i = 0; i < 50; i++)
            {
                laneCodes.Add(await closeCode(token));
            }

            return laneCodes;
        });

        return (await Task.WhenAll(lanes)).SelectMany(laneCodes => laneCodes).ToList();
    }

    private async Task<TestSocket> ConnectAsync()
    {
        var (_, token) = await app.SignInNewUserAsync();
        var socket = await app.ConnectAsync(EchoConsumer.Path, token);
        await socket.ReceiveJsonAsync("welcome");
        return socket;
    }
}

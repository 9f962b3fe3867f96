using System.Diagnostics.Metrics;
using System.Net.WebSockets;
using System.Security.Claims;
using System.Text;
using Company.RealtimeApp1.WebSockets;
using Microsoft.Extensions.Logging.Abstractions;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// The socket's writer (<see cref="RealtimeConnection"/>): a frame for an idle socket is written by the
/// caller at once; while a send is in flight frames queue, bounded, and go out in order behind it.
/// </summary>
public sealed class OutboundWriterTests
{
    [Fact]
    public async Task AFrameForAnIdleSocketIsWrittenBeforeTrySendReturns()
    {
        var socket = new FakeSocket();
        var connection = Create(socket);
        var sending = connection.SendLoopAsync();

        Assert.True(connection.TrySend(Frame("a")));
        Assert.Equal(["a"], socket.Sent);
        Assert.True(connection.TrySend(Frame("b")));
        Assert.Equal(["a", "b"], socket.Sent);

        connection.Close(WebSocketCloseStatus.NormalClosure, "bye");
        await sending;
        Assert.Equal((WebSocketCloseStatus.NormalClosure, "bye"), socket.ClosedWith);
    }

    [Fact]
    public async Task NothingIsWrittenBeforeTheSendLoopStartsThenTheQueuedFramesGoFirst()
    {
        var socket = new FakeSocket();
        var connection = Create(socket);

        Assert.True(connection.TrySend(Frame("welcome")));
        Assert.True(connection.TrySend(Frame("early")));
        Assert.Empty(socket.Sent);

        var sending = connection.SendLoopAsync();
        Assert.True(connection.TrySend(Frame("live")));
        Assert.Equal(["welcome", "early", "live"], socket.Sent);

        connection.Close(WebSocketCloseStatus.NormalClosure, "");
        await sending;
    }

    [Fact]
    public async Task ARefusedConnectionSendsOnlyTheCloseFrame()
    {
        var socket = new FakeSocket();
        var connection = Create(socket);
        connection.TrySend(Frame("welcome"));

        connection.Close(4029, "too many connections", discardQueued: true);
        await connection.SendLoopAsync();

        Assert.Empty(socket.Sent);
        Assert.Equal(((WebSocketCloseStatus)4029, "too many connections"), socket.ClosedWith);
    }

    [Fact]
    public async Task WhileASendIsInFlightFramesQueueAndGoOutInOrderBehindIt()
    {
        var socket = new FakeSocket();
        var connection = Create(socket);
        var sending = connection.SendLoopAsync();
        var stuck = socket.HoldNextSend();

        Assert.True(connection.TrySend(Frame("1")));
        Assert.True(connection.TrySend(Frame("2")));
        Assert.True(connection.TrySend(Frame("3")));
        Assert.Equal(["1"], socket.Sent);

        stuck.SetResult();
        await socket.WaitForSentAsync(3);
        Assert.Equal(["1", "2", "3"], socket.Sent);

        // The queue is empty again and nothing is in flight: the next frame goes at once.
        await socket.WaitUntilIdleAsync(connection);
        Assert.True(connection.TrySend(Frame("4")));
        Assert.Equal(["1", "2", "3", "4"], socket.Sent);

        connection.Close(WebSocketCloseStatus.NormalClosure, "");
        await sending;
        Assert.Equal(1, socket.MostAtOnce);
    }

    [Fact]
    public async Task AQueueOverItsMessageBoundClosesWith1008AndDropsWhatWaits()
    {
        var socket = new FakeSocket();
        var connection = Create(socket, messages: 2);
        var sending = connection.SendLoopAsync();
        var stuck = socket.HoldNextSend();

        Assert.True(connection.TrySend(Frame("in flight")));
        Assert.True(connection.TrySend(Frame("queued 1")));
        Assert.True(connection.TrySend(Frame("queued 2")));
        Assert.False(connection.TrySend(Frame("one too many")));
        Assert.True(connection.Closing.IsCancellationRequested);
        Assert.False(connection.TrySend(Frame("after the close")));

        stuck.SetResult();
        await sending;

        Assert.Equal(["in flight"], socket.Sent);
        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "slow consumer"), socket.ClosedWith);
    }

    [Fact]
    public async Task AQueueOverItsByteBoundClosesWith1008()
    {
        var socket = new FakeSocket();
        var connection = Create(socket, bytes: 1024);
        var sending = connection.SendLoopAsync();
        var stuck = socket.HoldNextSend();

        Assert.True(connection.TrySend(Frame(new string('a', 1000))));
        Assert.True(connection.TrySend(Frame(new string('b', 1000))));
        Assert.True(connection.TrySend(Frame(new string('c', 24))));
        Assert.False(connection.TrySend(Frame("d")));

        stuck.SetResult();
        await sending;

        Assert.Equal([new string('a', 1000)], socket.Sent);
        Assert.Equal((WebSocketCloseStatus.PolicyViolation, "slow consumer"), socket.ClosedWith);
    }

    [Fact]
    public async Task AnOrderlyCloseWritesWhatIsQueuedThenTheCloseFrame()
    {
        var socket = new FakeSocket();
        var connection = Create(socket);
        var sending = connection.SendLoopAsync();
        var stuck = socket.HoldNextSend();
        connection.TrySend(Frame("1"));
        connection.TrySend(Frame("2"));

        connection.Close(WebSocketCloseStatus.NormalClosure, "done");
        Assert.False(connection.TrySend(Frame("3")));
        Assert.Null(socket.ClosedWith);
        stuck.SetResult();
        await sending;

        Assert.Equal(["1", "2"], socket.Sent);
        Assert.Equal((WebSocketCloseStatus.NormalClosure, "done"), socket.ClosedWith);
        Assert.Equal(1, socket.MostAtOnce);
    }

    [Fact]
    public async Task ASendThatFailsAbortsTheSocketAndEndsTheSendSide()
    {
        var socket = new FakeSocket();
        var connection = Create(socket);
        var sending = connection.SendLoopAsync();
        var stuck = socket.HoldNextSend();
        connection.TrySend(Frame("1"));

        stuck.SetException(new WebSocketException(WebSocketError.ConnectionClosedPrematurely));
        await sending;

        Assert.True(socket.Aborted);
    }

    [Fact]
    public async Task SendersOnManyThreadsEachKeepTheirOrderAndNoTwoSendsOverlap()
    {
        const int threads = 4;
        const int perThread = 2000;
        var socket = new FakeSocket { YieldEvery = 7 };
        var connection = Create(socket, messages: threads * perThread);
        var sending = connection.SendLoopAsync();

        await Task.WhenAll(Enumerable.Range(0, threads).Select(thread => Task.Run(() =>
        {
            for (var i = 0; i < perThread; i++)
            {
                Assert.True(connection.TrySend(Frame($"{thread}:{i}")));
            }
        })));
        await socket.WaitForSentAsync(threads * perThread);
        connection.Close(WebSocketCloseStatus.NormalClosure, "");
        await sending;

        Assert.Equal(1, socket.MostAtOnce);
        var sent = socket.Sent;
        Assert.Equal(threads * perThread, sent.Count);
        for (var thread = 0; thread < threads; thread++)
        {
            var mine = sent.Where(frame => frame.StartsWith($"{thread}:", StringComparison.Ordinal)).Select(frame => int.Parse(frame[(frame.IndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(Enumerable.Range(0, perThread), mine);
        }
    }

    private static ReadOnlyMemory<byte> Frame(string text) => Encoding.UTF8.GetBytes(text);

    private static RealtimeConnection Create(FakeSocket socket, int messages = 1024, int bytes = 4 * 1024 * 1024)
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var options = new RealtimeOptions { OutboundQueueMessages = messages, OutboundQueueBytes = bytes, MaxMessageBytes = Math.Min(bytes, 64 * 1024) };
        return new RealtimeConnection(
            socket, new ClaimsPrincipal(new ClaimsIdentity()), options,
            new RealtimeMetrics(services.GetRequiredService<IMeterFactory>()), NullLogger.Instance);
    }

    /// <summary>A socket whose sends complete at once, unless the test holds one; it notes what overlaps.</summary>
    private sealed class FakeSocket : WebSocket
    {
        private readonly Lock _gate = new();
        private readonly List<string> _sent = [];
        private TaskCompletionSource? _hold;
        private int _inFlight;
        private int _sends;

        /// <summary>Every so many sends, complete asynchronously (on the thread pool) rather than at once.</summary>
        public int YieldEvery { get; init; }

        public int MostAtOnce { get; private set; }

        public bool Aborted { get; private set; }

        public (WebSocketCloseStatus Status, string Reason)? ClosedWith { get; private set; }

        public List<string> Sent
        {
            get
            {
                lock (_gate)
                {
                    return [.. _sent];
                }
            }
        }

        public TaskCompletionSource HoldNextSend()
        {
            var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _hold = hold;
            return hold;
        }

        public async Task WaitForSentAsync(int count)
        {
            while (Sent.Count < count)
            {
                await Task.Delay(5);
            }
        }

        /// <summary>Waits until the writer has let go (it has nothing queued): a probe frame would otherwise race it.</summary>
        public async Task WaitUntilIdleAsync(RealtimeConnection connection)
        {
            while (connection.IsWriting)
            {
                await Task.Delay(5);
            }
        }

        public override ValueTask SendAsync(ReadOnlyMemory<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken)
        {
            var text = Encoding.UTF8.GetString(buffer.Span);
            bool yields;
            lock (_gate)
            {
                _inFlight++;
                MostAtOnce = Math.Max(MostAtOnce, _inFlight);
                _sent.Add(text);
                _sends++;
                yields = YieldEvery > 0 && _sends % YieldEvery == 0;
            }

            var hold = Interlocked.Exchange(ref _hold, null);
            if (hold is not null)
            {
                return new ValueTask(CompleteAfterAsync(hold.Task));
            }

            if (yields)
            {
                return new ValueTask(CompleteAfterAsync(Task.Run(static () => { })));
            }

            Done();
            return ValueTask.CompletedTask;
        }

        private async Task CompleteAfterAsync(Task wait)
        {
            try
            {
                await wait;
            }
            finally
            {
                Done();
            }
        }

        private void Done()
        {
            lock (_gate)
            {
                _inFlight--;
            }
        }

        public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
            SendAsync(buffer.AsMemory(), messageType, endOfMessage, cancellationToken).AsTask();

        public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken)
        {
            lock (_gate)
            {
                Assert.Equal(0, _inFlight);
                ClosedWith = (closeStatus, statusDescription ?? "");
            }

            return Task.CompletedTask;
        }

        public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
            CloseOutputAsync(closeStatus, statusDescription, cancellationToken);

        public override void Abort() => Aborted = true;

        public override WebSocketCloseStatus? CloseStatus => ClosedWith?.Status;

        public override string? CloseStatusDescription => ClosedWith?.Reason;

        public override WebSocketState State => Aborted ? WebSocketState.Aborted : ClosedWith is null ? WebSocketState.Open : WebSocketState.CloseSent;

        public override string? SubProtocol => null;

        public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public override void Dispose()
        {
        }
    }
}

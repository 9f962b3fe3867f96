using System.Net.WebSockets;
using System.Text;
using Company.RealtimeApp1.WebSockets;

namespace Company.RealtimeApp1.Tests;

/// <summary>The message reader on its own, fed frames by a scripted socket: no server, no network.</summary>
public sealed class WebSocketMessageReaderTests
{
    private const int Limit = 1024;

    [Fact]
    public async Task AWholeTextMessageIsReadAsOneMessage()
    {
        using var reader = new WebSocketMessageReader(new ScriptedWebSocket(Text("""{"type":"ping"}""", endOfMessage: true)), Limit);

        var read = await reader.ReadAsync();

        Assert.Equal(MessageReadOutcome.Message, read.Outcome);
        Assert.Equal("""{"type":"ping"}""", Encoding.UTF8.GetString(read.Text.Span));
    }

    [Fact]
    public async Task FragmentsAreReassembledIntoOneMessage()
    {
        using var reader = new WebSocketMessageReader(new ScriptedWebSocket(
            Text("""{"type":""", endOfMessage: false),
            Continuation("\"ping\",\"pad\":\"" + new string('x', 500), endOfMessage: false),
            Continuation("\"}", endOfMessage: true)), Limit);

        var read = await reader.ReadAsync();

        Assert.Equal(MessageReadOutcome.Message, read.Outcome);
        Assert.Equal("""{"type":"ping","pad":" """.TrimEnd() + new string('x', 500) + "\"}", Encoding.UTF8.GetString(read.Text.Span));
    }

    [Fact]
    public async Task AMessageExactlyAtTheLimitIsRead()
    {
        using var reader = new WebSocketMessageReader(new ScriptedWebSocket(
            Text(new string('x', Limit / 2), endOfMessage: false),
            Continuation(new string('x', Limit / 2), endOfMessage: true)), Limit);

        var read = await reader.ReadAsync();

        Assert.Equal(MessageReadOutcome.Message, read.Outcome);
        Assert.Equal(Limit, read.Text.Length);
    }

    [Fact]
    public async Task FragmentsThatTogetherExceedTheLimitAreRefusedWith1009()
    {
        using var reader = new WebSocketMessageReader(new ScriptedWebSocket(
            Text(new string('x', Limit / 2), endOfMessage: false),
            Continuation(new string('x', Limit / 2), endOfMessage: false),
            Continuation("x", endOfMessage: true)), Limit);

        var read = await reader.ReadAsync();

        Assert.Equal((MessageReadOutcome.Refused, WebSocketCloseStatus.MessageTooBig, "message too big"), (read.Outcome, read.CloseStatus, read.CloseReason));
    }

    [Fact]
    public async Task ABinaryMessageIsRefusedWith1003()
    {
        using var reader = new WebSocketMessageReader(new ScriptedWebSocket(
            new Frame(WebSocketMessageType.Binary, [1, 2, 3], EndOfMessage: true)), Limit);

        var read = await reader.ReadAsync();

        Assert.Equal(
            (MessageReadOutcome.Refused, WebSocketCloseStatus.InvalidMessageType, "binary messages are not supported"),
            (read.Outcome, read.CloseStatus, read.CloseReason));
    }

    [Fact]
    public async Task InvalidUtf8SplitAcrossFragmentsIsRefusedWith1007()
    {
        using var reader = new WebSocketMessageReader(new ScriptedWebSocket(
            new Frame(WebSocketMessageType.Text, [0x7B, 0xC3], EndOfMessage: false),
            new Frame(WebSocketMessageType.Text, [0x28, 0x7D], EndOfMessage: true)), Limit);

        var read = await reader.ReadAsync();

        Assert.Equal(
            (MessageReadOutcome.Refused, WebSocketCloseStatus.InvalidPayloadData, "invalid UTF-8"),
            (read.Outcome, read.CloseStatus, read.CloseReason));
    }

    [Fact]
    public async Task AMultiByteCharacterSplitAcrossFragmentsIsValid()
    {
        // "é" is 0xC3 0xA9: split between two fragments, it is still one valid character.
        using var reader = new WebSocketMessageReader(new ScriptedWebSocket(
            new Frame(WebSocketMessageType.Text, [0x22, 0xC3], EndOfMessage: false),
            new Frame(WebSocketMessageType.Text, [0xA9, 0x22], EndOfMessage: true)), Limit);

        var read = await reader.ReadAsync();

        Assert.Equal(MessageReadOutcome.Message, read.Outcome);
        Assert.Equal("\"é\"", Encoding.UTF8.GetString(read.Text.Span));
    }

    [Fact]
    public async Task TheClientsCloseFrameIsReportedAsClientClosed()
    {
        using var reader = new WebSocketMessageReader(new ScriptedWebSocket(
            new Frame(WebSocketMessageType.Close, [], EndOfMessage: true)), Limit);

        var read = await reader.ReadAsync();

        Assert.Equal(MessageReadOutcome.ClientClosed, read.Outcome);
    }

    [Fact]
    public async Task ACloseFrameInTheMiddleOfAMessageIsReportedAsClientClosed()
    {
        using var reader = new WebSocketMessageReader(new ScriptedWebSocket(
            Text("""{"type":""", endOfMessage: false),
            new Frame(WebSocketMessageType.Close, [], EndOfMessage: true)), Limit);

        var read = await reader.ReadAsync();

        Assert.Equal(MessageReadOutcome.ClientClosed, read.Outcome);
    }

    [Fact]
    public async Task MessagesAreReadOneAfterAnother()
    {
        using var reader = new WebSocketMessageReader(new ScriptedWebSocket(
            Text("""{"n":1}""", endOfMessage: true),
            Text("""{"n":2}""", endOfMessage: true)), Limit);

        var first = Encoding.UTF8.GetString((await reader.ReadAsync()).Text.Span);
        var second = Encoding.UTF8.GetString((await reader.ReadAsync()).Text.Span);

        Assert.Equal(("""{"n":1}""", """{"n":2}"""), (first, second));
    }

    private static Frame Text(string text, bool endOfMessage) => new(WebSocketMessageType.Text, Encoding.UTF8.GetBytes(text), endOfMessage);

    // A continuation frame carries the type of the message it continues, as WebSocket reports it.
    private static Frame Continuation(string text, bool endOfMessage) => Text(text, endOfMessage);

    private sealed record Frame(WebSocketMessageType Type, byte[] Payload, bool EndOfMessage);

    /// <summary>
    /// A WebSocket that returns scripted frames the way the framework's does: a zero-byte read reports the
    /// next frame's type without consuming it, a frame larger than the buffer is returned in pieces.
    /// </summary>
    private sealed class ScriptedWebSocket(params Frame[] frames) : WebSocket
    {
        private readonly Queue<Frame> _frames = new(frames);
        private int _offset;
        private WebSocketState _state = WebSocketState.Open;

        public override WebSocketCloseStatus? CloseStatus { get; } = null;

        public override string? CloseStatusDescription { get; } = null;

        public override WebSocketState State => _state;

        public override string? SubProtocol { get; } = null;

        public override ValueTask<ValueWebSocketReceiveResult> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
        {
            var frame = _frames.Peek();
            if (frame.Type == WebSocketMessageType.Close)
            {
                _frames.Dequeue();
                _state = WebSocketState.CloseReceived;
                return ValueTask.FromResult(new ValueWebSocketReceiveResult(0, WebSocketMessageType.Close, true));
            }

            var count = Math.Min(buffer.Length, frame.Payload.Length - _offset);
            frame.Payload.AsSpan(_offset, count).CopyTo(buffer.Span);
            _offset += count;
            var frameDone = _offset == frame.Payload.Length && (buffer.Length > 0 || frame.Payload.Length == 0);
            if (frameDone)
            {
                _frames.Dequeue();
                _offset = 0;
            }

            return ValueTask.FromResult(new ValueWebSocketReceiveResult(count, frame.Type, frameDone && frame.EndOfMessage));
        }

        public override Task<WebSocketReceiveResult> ReceiveAsync(ArraySegment<byte> buffer, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public override Task SendAsync(ArraySegment<byte> buffer, WebSocketMessageType messageType, bool endOfMessage, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public override Task CloseAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public override Task CloseOutputAsync(WebSocketCloseStatus closeStatus, string? statusDescription, CancellationToken cancellationToken) =>
            throw new NotSupportedException();

        public override void Abort() => _state = WebSocketState.Aborted;

        public override void Dispose()
        {
        }
    }
}

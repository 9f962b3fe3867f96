using System.Buffers;
using System.Net.WebSockets;
using System.Text.Unicode;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>What one read from the client gave: a whole text message, the client's close, or a refusal.</summary>
internal enum MessageReadOutcome
{
    /// <summary>A whole text message, valid UTF-8, within the limit: <see cref="MessageRead.Text"/>.</summary>
    Message,

    /// <summary>The client's close frame arrived; its code is the socket's <see cref="WebSocket.CloseStatus"/>.</summary>
    ClientClosed,

    /// <summary>The client broke a rule of the protocol; the socket is to close with <see cref="MessageRead.CloseStatus"/>.</summary>
    Refused,
}

/// <summary>One read's result. <see cref="Text"/> stays valid until the reader's next read.</summary>
internal readonly record struct MessageRead(
    MessageReadOutcome Outcome, ReadOnlyMemory<byte> Text, WebSocketCloseStatus CloseStatus = default, string CloseReason = "")
{
    public static MessageRead ClientClosed => new(MessageReadOutcome.ClientClosed, default);

    public static MessageRead Refuse(WebSocketCloseStatus status, string reason) => new(MessageReadOutcome.Refused, default, status, reason);
}

/// <summary>
/// Reads a socket one client message at a time: fragments reassembled into a pooled buffer that grows
/// up to <c>maxMessageBytes</c>, counted across fragments, and no further (1009); text only (1003);
/// valid UTF-8 only (1007). Between messages it holds no buffer, so an idle socket costs none.
/// </summary>
internal sealed class WebSocketMessageReader(WebSocket socket, int maxMessageBytes) : IDisposable
{
    internal const int ChunkBytes = 4096;

    private byte[]? _buffer;

    /// <summary>Waits for and reads the next message; what it returns is valid until the next call.</summary>
    public async ValueTask<MessageRead> ReadAsync(CancellationToken cancellationToken = default)
    {
        ReturnBuffer();

        // A zero-byte read waits for the next frame without holding a buffer for an idle socket.
        var next = await socket.ReceiveAsync(Memory<byte>.Empty, cancellationToken);
        switch (next.MessageType)
        {
            case WebSocketMessageType.Close:
                return MessageRead.ClientClosed;
            case WebSocketMessageType.Binary:
                return MessageRead.Refuse(WebSocketCloseStatus.InvalidMessageType, "binary messages are not supported");
        }

        var buffer = _buffer = ArrayPool<byte>.Shared.Rent(Math.Min(ChunkBytes, maxMessageBytes + 1));
        var length = 0;
        while (true)
        {
            if (length == buffer.Length)
            {
                var larger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, maxMessageBytes + 1));
                buffer.AsSpan(0, length).CopyTo(larger);
                ReturnBuffer();
                buffer = _buffer = larger;
            }

            var result = await socket.ReceiveAsync(buffer.AsMemory(length), cancellationToken);
            switch (result.MessageType)
            {
                case WebSocketMessageType.Close:
                    return MessageRead.ClientClosed;
                case WebSocketMessageType.Binary:
                    return MessageRead.Refuse(WebSocketCloseStatus.InvalidMessageType, "binary messages are not supported");
            }

            length += result.Count;
            if (length > maxMessageBytes)
            {
                return MessageRead.Refuse(WebSocketCloseStatus.MessageTooBig, "message too big");
            }

            if (result.EndOfMessage)
            {
                // The framework's WebSocket checks this too, and aborts on failure; checking here keeps the
                // reader's contract whole on any WebSocket.
                return Utf8.IsValid(buffer.AsSpan(0, length))
                    ? new MessageRead(MessageReadOutcome.Message, buffer.AsMemory(0, length))
                    : MessageRead.Refuse(WebSocketCloseStatus.InvalidPayloadData, "invalid UTF-8");
            }
        }
    }

    public void Dispose() => ReturnBuffer();

    private void ReturnBuffer()
    {
        if (_buffer is { } buffer)
        {
            _buffer = null;
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

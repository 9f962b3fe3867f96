using System.Buffers;
using System.Net.WebSockets;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// The end of every close the server starts (RFC 6455 §7.1): what the client still sends is read and
/// discarded until its close frame arrives or the deadline (<see cref="RealtimeOptions.CloseTimeout"/>)
/// passes. Dropping the connection sooner, while the client's data still arrives, makes the client's TCP
/// stack reset it, and the close frame waiting to be read is lost with it (the client sees 1006).
/// </summary>
internal static class CloseHandshake
{
    private const int DiscardBufferBytes = 1024;

    /// <summary>Returns once the client's close arrived, the client went away, or the deadline aborted the socket.</summary>
    public static async Task DrainAsync(WebSocket socket, CancellationToken deadline)
    {
        if (socket.State is not (WebSocketState.Open or WebSocketState.CloseSent))
        {
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(DiscardBufferBytes);
        try
        {
            while (socket.State is WebSocketState.Open or WebSocketState.CloseSent)
            {
                var result = await socket.ReceiveAsync(buffer.AsMemory(), deadline);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    return;
                }
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
        {
            // The client hung up, or the deadline passed and cancelling the read aborted the socket.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// A WebSocket client over a bare TCP socket, for what <see cref="System.Net.WebSockets.ClientWebSocket"/>
/// refuses to send: frames that break the protocol. It reads the server's frames as they come.
/// </summary>
public sealed class RawWebSocket : IAsyncDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly TcpClient _client;
    private readonly NetworkStream _stream;

    private RawWebSocket(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    /// <summary>Opens <paramref name="path"/> with <paramref name="accessToken"/> in the header; throws unless the server answered 101.</summary>
    public static async Task<RawWebSocket> ConnectAsync(Uri server, string path, string accessToken)
    {
        var client = new TcpClient();
        try
        {
            await client.ConnectAsync(server.Host, server.Port);
            var socket = new RawWebSocket(client);
            var request = $"GET {path} HTTP/1.1\r\nHost: {server.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                + $"Authorization: Bearer {accessToken}\r\n\r\n";
            await socket._stream.WriteAsync(Encoding.ASCII.GetBytes(request));
            var head = await socket.ReadHeadAsync();
            Assert.StartsWith("HTTP/1.1 101 ", head);
            return socket;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Writes <paramref name="bytes"/> as they are: a frame, or a piece of one.</summary>
    public async Task SendRawAsync(byte[] bytes) => await _stream.WriteAsync(bytes);

    /// <summary>Reads frames until the server's close and returns its code; a frame before it is skipped.</summary>
    public async Task<int> ReceiveCloseCodeAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        while (true)
        {
            var header = await ReadExactlyAsync(2, timeout.Token);
            var opcode = header[0] & 0x0F;
            long length = header[1] & 0x7F;
            if (length == 126)
            {
                length = BinaryPrimitives.ReadUInt16BigEndian(await ReadExactlyAsync(2, timeout.Token));
            }
            else if (length == 127)
            {
                length = (long)BinaryPrimitives.ReadUInt64BigEndian(await ReadExactlyAsync(8, timeout.Token));
            }

            var payload = await ReadExactlyAsync((int)length, timeout.Token);
            if (opcode == 0x8)
            {
                // A close without a payload carries no code: 1005 (RFC 6455 §7.1.5).
                return payload.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(payload) : 1005;
            }
        }
    }

    /// <summary>
    /// Reads and drops what the server sends, answering nothing (not even its pings), until it drops the
    /// connection; false if it has not within <paramref name="wait"/>.
    /// </summary>
    public async Task<bool> ServerHangsUpWithinAsync(TimeSpan wait)
    {
        using var timeout = new CancellationTokenSource(wait);
        var buffer = new byte[1024];
        try
        {
            while (await _stream.ReadAsync(buffer, timeout.Token) > 0)
            {
            }

            return true;
        }
        catch (IOException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<string> ReadHeadAsync()
    {
        using var timeout = new CancellationTokenSource(Timeout);
        var head = new StringBuilder();
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            head.Append((char)(await ReadExactlyAsync(1, timeout.Token))[0]);
        }

        return head.ToString();
    }

    private async Task<byte[]> ReadExactlyAsync(int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[count];
        await _stream.ReadExactlyAsync(buffer, cancellationToken);
        return buffer;
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}

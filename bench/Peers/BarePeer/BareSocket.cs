using System.Buffers;
using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net.WebSockets;
using System.Text;
using System.Threading.Channels;

namespace BarePeer;

/// <summary>
/// One socket: a queue and one writer, and a receive loop that echoes every message as it came, or, on a
/// publisher socket (<c>?publish=1</c>), hands it to every member of the socket's group.
/// </summary>
public sealed class BareSocket
{
    private static readonly ReadOnlyMemory<byte> Welcome = Encoding.UTF8.GetBytes("""{"type":"welcome"}""");

    private readonly WebSocket _socket;
    private readonly Channel<ReadOnlyMemory<byte>> _outbound =
        Channel.CreateUnbounded<ReadOnlyMemory<byte>>(new UnboundedChannelOptions { SingleReader = true });

    private BareSocket(WebSocket socket) => _socket = socket;

    public void Send(ReadOnlyMemory<byte> frame) => _outbound.Writer.TryWrite(frame);

    public static async Task RunAsync(HttpContext context, Groups groups)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var connection = new BareSocket(socket);
        connection.Send(Welcome);
        var group = context.Request.Query["org"] is [{ } org] ? "org:" + org
            : context.Request.Query["user"] is [{ } user] ? "user:" + user
            : null;
        // A publisher's messages go to its group as they are; everyone else's come back (echo).
        var publishTo = group is not null && context.Request.Query["publish"] == "1" ? group : null;
        if (group is not null)
        {
            groups.Add(group, connection);
        }

        try
        {
            var sending = connection.SendLoopAsync();
            await connection.ReceiveLoopAsync(publishTo, groups);
            connection._outbound.Writer.TryComplete();
            await sending;
        }
        finally
        {
            if (group is not null)
            {
                groups.Remove(group, connection);
            }
        }
    }

    private async Task SendLoopAsync()
    {
        try
        {
            await foreach (var frame in _outbound.Reader.ReadAllAsync())
            {
                await _socket.SendAsync(frame, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            _socket.Abort();
        }
    }

    private async Task ReceiveLoopAsync(string? publishTo, Groups groups)
    {
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                // A zero-byte read waits for the next frame without holding a buffer for an idle socket.
                var next = await _socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                if (next.MessageType == WebSocketMessageType.Close)
                {
                    await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", CancellationToken.None);
                    return;
                }

                var buffer = ArrayPool<byte>.Shared.Rent(4096);
                try
                {
                    var length = 0;
                    while (true)
                    {
                        if (length == buffer.Length)
                        {
                            var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                            buffer.AsSpan(0, length).CopyTo(larger);
                            ArrayPool<byte>.Shared.Return(buffer);
                            buffer = larger;
                        }

                        var result = await _socket.ReceiveAsync(buffer.AsMemory(length), CancellationToken.None);
                        if (result.MessageType == WebSocketMessageType.Close)
                        {
                            return;
                        }

                        length += result.Count;
                        if (result.EndOfMessage)
                        {
                            break;
                        }
                    }

                    var message = buffer.AsSpan(0, length).ToArray();
                    if (publishTo is null)
                    {
                        Send(message);
                    }
                    else
                    {
                        groups.Send(publishTo, message);
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
        }
        catch (Exception exception) when (exception is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client went away.
        }
    }
}

/// <summary>Sockets by group; fan-out reads an immutable snapshot, so it takes no lock.</summary>
public sealed class Groups
{
    private readonly ConcurrentDictionary<string, ImmutableArray<BareSocket>> _groups = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    public void Send(string group, ReadOnlyMemory<byte> frame)
    {
        if (_groups.TryGetValue(group, out var members))
        {
            foreach (var member in members)
            {
                member.Send(frame);
            }
        }
    }

    public void Add(string group, BareSocket socket)
    {
        lock (_gate)
        {
            _groups[group] = _groups.GetValueOrDefault(group, []).Add(socket);
        }
    }

    public void Remove(string group, BareSocket socket)
    {
        lock (_gate)
        {
            var members = _groups.GetValueOrDefault(group, []).Remove(socket);
            if (members.IsEmpty)
            {
                _groups.TryRemove(group, out _);
            }
            else
            {
                _groups[group] = members;
            }
        }
    }
}

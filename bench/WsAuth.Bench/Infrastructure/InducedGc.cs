using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;

namespace WsAuth.Bench.Infrastructure;

/// <summary>
/// Makes another .NET process run a full, blocking garbage collection, through the runtime's diagnostics
/// port: an EventPipe session that enables the runtime provider's GCHeapCollect keyword, which is how
/// dotnet-gcdump asks for one. The same for every server, and needs nothing inside the server: memory is
/// then read with only live objects left on the managed heap, instead of whatever garbage the last
/// gen0 budget happened to hold.
/// </summary>
internal static class InducedGc
{
    private const ulong GcHeapCollectKeyword = 0x800000;
    private const byte EventPipeCommandSet = 0x02;
    internal const byte StopTracing = 0x01;
    internal const byte CollectTracing = 0x02;

    public static async Task<bool> CollectAsync(int pid, CancellationToken cancellationToken)
    {
        var endpoint = FindEndpoint(pid);
        if (endpoint is null)
        {
            return false;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        using var session = await ConnectAsync(endpoint, timeout.Token);
        await session.SendAsync(Request(CollectTracing, CollectTracingPayload()), timeout.Token);
        var response = await ReadResponseAsync(session, timeout.Token);
        if (response is not { Length: >= 8 })
        {
            return false;
        }

        var sessionId = BinaryPrimitives.ReadUInt64LittleEndian(response);
        // The session streams trace data until it stops; read it away so the runtime never waits on us.
        var draining = DrainAsync(session, timeout.Token);
        // Enabling the keyword runs the collection; give the runtime a moment before the session ends.
        await Task.Delay(TimeSpan.FromMilliseconds(250), timeout.Token);

        using (var stop = await ConnectAsync(endpoint, timeout.Token))
        {
            var payload = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(payload, sessionId);
            await stop.SendAsync(Request(StopTracing, payload), timeout.Token);
            await ReadResponseAsync(stop, timeout.Token);
        }

        await draining;
        return true;
    }

    internal static string? FindEndpoint(int pid)
    {
        var directory = Environment.GetEnvironmentVariable("TMPDIR") is { Length: > 0 } tmp ? tmp : "/tmp";
        return Directory.EnumerateFiles(directory, $"dotnet-diagnostic-{pid}-*-socket").FirstOrDefault();
    }

    internal static async Task<Socket> ConnectAsync(string endpoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        await socket.ConnectAsync(new UnixDomainSocketEndPoint(endpoint), cancellationToken);
        return socket;
    }

    /// <summary>The IPC header: magic "DOTNET_IPC_V1\0", total size, command set, command id, reserved.</summary>
    internal static byte[] Request(byte command, byte[] payload)
    {
        var message = new byte[20 + payload.Length];
        Encoding.ASCII.GetBytes("DOTNET_IPC_V1\0").CopyTo(message, 0);
        BinaryPrimitives.WriteUInt16LittleEndian(message.AsSpan(14), (ushort)message.Length);
        message[16] = EventPipeCommandSet;
        message[17] = command;
        payload.CopyTo(message, 20);
        return message;
    }

    /// <summary>CollectTracing: buffer size (MB), format (NetTrace), one provider with its keywords and level.</summary>
    private static byte[] CollectTracingPayload()
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream, Encoding.Unicode);
        writer.Write(16u);
        writer.Write(1u);
        writer.Write(1u);
        writer.Write(GcHeapCollectKeyword);
        writer.Write(4u); // informational
        WriteString(writer, "Microsoft-Windows-DotNETRuntime");
        WriteString(writer, "");
        writer.Flush();
        return stream.ToArray();
    }

    internal static void WriteString(BinaryWriter writer, string value)
    {
        if (value.Length == 0)
        {
            writer.Write(0u);
            return;
        }

        writer.Write((uint)(value.Length + 1));
        writer.Write(Encoding.Unicode.GetBytes(value + "\0"));
    }

    /// <summary>The response's payload when the runtime answered OK (command set 0xFF, id 0x00); null otherwise.</summary>
    internal static async Task<byte[]?> ReadResponseAsync(Socket socket, CancellationToken cancellationToken)
    {
        var header = new byte[20];
        await ReadExactlyAsync(socket, header, cancellationToken);
        var size = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(14));
        var payload = new byte[Math.Max(0, size - 20)];
        await ReadExactlyAsync(socket, payload, cancellationToken);
        return header[16] == 0xFF && header[17] == 0x00 ? payload : null;
    }

    private static async Task ReadExactlyAsync(Socket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        for (var read = 0; read < buffer.Length;)
        {
            var count = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, cancellationToken);
            if (count == 0)
            {
                throw new IOException("The diagnostics port closed early.");
            }

            read += count;
        }
    }

    private static async Task DrainAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken) > 0)
            {
            }
        }
        catch (Exception exception) when (exception is SocketException or OperationCanceledException)
        {
            // The session ended one way or the other.
        }
    }
}

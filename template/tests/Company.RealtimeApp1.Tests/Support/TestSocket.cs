using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Company.RealtimeApp1.Tests;

/// <summary>A client socket that speaks JSON text frames, with a timeout on every wait so no test hangs.</summary>
public sealed class TestSocket(ClientWebSocket socket) : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public ClientWebSocket Socket { get; } = socket;

    public string? SubProtocol => Socket.SubProtocol;

    public Task SendJsonAsync(object message) => SendTextAsync(JsonSerializer.Serialize(message));

    public async Task SendTextAsync(string text)
    {
        using var timeout = new CancellationTokenSource(Timeout);
        await Socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
    }

    /// <summary>Receives the next message, which must be a JSON text frame.</summary>
    public async Task<JsonElement> ReceiveJsonAsync()
    {
        var (type, payload) = await ReceiveAsync();
        Assert.True(type == WebSocketMessageType.Text, $"Expected a text message but got {type} (close {Socket.CloseStatus} '{Socket.CloseStatusDescription}').");
        return JsonDocument.Parse(payload).RootElement.Clone();
    }

    /// <summary>Receives the next message and asserts that its type is <paramref name="expectedType"/>.</summary>
    public async Task<JsonElement> ReceiveJsonAsync(string expectedType)
    {
        var message = await ReceiveJsonAsync();
        Assert.Equal(expectedType, message.GetProperty("type").GetString());
        return message;
    }

    /// <summary>Waits for the server's close frame and returns its code and reason.</summary>
    /// <summary>The ids of the next <paramref name="count"/> messages, each of <paramref name="expectedType"/>, in arrival order.</summary>
    public async Task<List<long>> ReceiveIdsAsync(string expectedType, int count)
    {
        var ids = new List<long>(count);
        for (var i = 0; i < count; i++)
        {
            ids.Add((await ReceiveJsonAsync(expectedType)).GetProperty("id").GetInt64());
        }

        return ids;
    }

    public async Task<(int Code, string? Reason)> ReceiveCloseAsync()
    {
        while (true)
        {
            var (type, _) = await ReceiveAsync();
            if (type == WebSocketMessageType.Close)
            {
                return ((int)Socket.CloseStatus!, Socket.CloseStatusDescription);
            }
        }
    }

    /// <summary>
    /// True when no message arrives within <paramref name="wait"/>. The socket stays usable: the receive
    /// is left pending for the next call rather than cancelled (cancelling would abort the socket).
    /// </summary>
    public async Task<bool> ReceivesNothingWithinAsync(TimeSpan wait)
    {
        _pending ??= ReceiveCoreAsync();
        return await Task.WhenAny(_pending, Task.Delay(wait)) != _pending;
    }

    public async Task<(WebSocketMessageType Type, byte[] Payload)> ReceiveAsync()
    {
        var pending = _pending ?? ReceiveCoreAsync();
        _pending = null;
        return await pending.WaitAsync(Timeout);
    }

    private Task<(WebSocketMessageType Type, byte[] Payload)>? _pending;

    /// <summary>
    /// Whether presence messages (<c>presence</c>, <c>presence.joined</c>, <c>presence.left</c>) are passed over, as
    /// the tests of everything but presence want: who comes and goes on an organization is not what they are about.
    /// </summary>
    public bool SkipsPresence { get; set; } = true;

    private static ReadOnlySpan<byte> PresenceSnapshot => """{"type":"presence","members":"""u8;

    private static ReadOnlySpan<byte> PresenceJoined => """{"type":"presence.joined","""u8;

    private static ReadOnlySpan<byte> PresenceLeft => """{"type":"presence.left","""u8;

    private static bool IsPresence(ReadOnlySpan<byte> payload) =>
        payload.StartsWith(PresenceSnapshot) || payload.StartsWith(PresenceJoined) || payload.StartsWith(PresenceLeft);

    private async Task<(WebSocketMessageType Type, byte[] Payload)> ReceiveCoreAsync()
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await Socket.ReceiveAsync(buffer, CancellationToken.None);
            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage || result.MessageType == WebSocketMessageType.Close)
            {
                var payload = message.ToArray();
                if (SkipsPresence && result.MessageType == WebSocketMessageType.Text && IsPresence(payload))
                {
                    message.SetLength(0);
                    continue;
                }

                return (result.MessageType, payload);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Socket.State == WebSocketState.Open)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);
            }
            catch (Exception exception) when (exception is WebSocketException or OperationCanceledException)
            {
                // Closing is best effort at the end of a test.
            }
        }

        Socket.Dispose();
    }
}

namespace Company.RealtimeApp1.Tests;

/// <summary>Bounded waits for what happens in the background: a condition that must come to hold, a socket that must be ready.</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> until it holds, failing the test after <see cref="TestSocket.Timeout"/>.</summary>
    public static async Task HoldsAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow + TestSocket.Timeout;
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold within the timeout.");
            await Task.Delay(50);
        }
    }

    public static Task HoldsAsync(Func<bool> condition) => HoldsAsync(() => Task.FromResult(condition()));

    /// <summary>A socket whose consumer has joined its streams: the first pong follows the end of <c>OnConnectedAsync</c>.</summary>
    public static async Task<TestSocket> JoinedAsync(this RealtimeApplication app, string path, string token)
    {
        var socket = await app.ConnectAsync(path, token);
        await socket.ReceiveJsonAsync("welcome");
        await socket.SendJsonAsync(new { type = "ping" });
        await socket.ReceiveJsonAsync("pong");
        return socket;
    }
}

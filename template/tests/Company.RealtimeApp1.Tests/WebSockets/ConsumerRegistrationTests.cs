namespace Company.RealtimeApp1.Tests;

/// <summary>A consumer is one registration line: <c>services.AddConsumer&lt;T&gt;(pattern)</c>, mapped with the others.</summary>
public sealed class ConsumerRegistrationTests(RealtimeApplication app) : IClassFixture<RealtimeApplication>
{
    [Fact]
    public async Task AConsumerAddedWithOneRegistrationLineIsAnAuthenticatedWebSocketEndpoint()
    {
        var (_, token) = await app.SignInNewUserAsync();
        await using var socket = await app.ConnectAsync(EchoConsumer.Path, token);
        await socket.ReceiveJsonAsync("welcome");

        await socket.SendTextAsync("""{"type":"echo","text":"hello"}""");

        Assert.Equal("hello", (await socket.ReceiveJsonAsync("echo")).GetProperty("text").GetString());
        await using var anonymous = await app.ConnectAsync(EchoConsumer.Path);
        await anonymous.AssertRefusedAsync(401, "missing_token", "No credential was sent: use an Authorization header, ?access_token=, ?ticket=, the bearer.<token> subprotocol or the session cookie.");
    }
}

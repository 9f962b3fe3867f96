using Microsoft.Extensions.Logging;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// Client messages that are JSON by its grammar but hold a string no Unicode text can: a lone surrogate
/// escape (RFC 8259 §8.2 leaves its meaning open; I-JSON, RFC 7493 §2.1, forbids it). Each is answered
/// <c>invalid_json</c>, whichever message and member it is in, and the socket stays open.
/// </summary>
public sealed class MalformedMessageTests
{
    [Theory]
    [InlineData("""{"type":"\ud800"}""")]
    [InlineData("""{"type":"echo","text":"a\udc00b"}""")]
    [InlineData("""{"type":"echo","\ud83d":1}""")]
    [InlineData("""{"type":"ping","id":"\ud800"}""")]
    [InlineData("""{"type":"auth.refresh","access_token":"\ud800"}""")]
    [InlineData("""{"type":"resume","since":1,"note":["\udfff"]}""")]
    public async Task ALoneSurrogateEscapeIsInvalidJsonAndTheSocketStaysOpen(string text)
    {
        using var app = new RealtimeApplication();
        var user = await app.CreateSignedInUserAsync();
        await using var socket = await app.ConnectAsync(EchoConsumer.Path, user.Token);
        await socket.ReceiveJsonAsync("welcome");

        await socket.SendTextAsync(text);
        var error = await socket.ReceiveJsonAsync("error");
        await socket.SendJsonAsync(new { type = "ping", id = "still-open" });

        Assert.Equal(
            """{"type":"error","code":"invalid_json","detail":"The message is not valid JSON: a string in it is not Unicode text (a lone surrogate escape)."}""",
            error.GetRawText());
        Assert.Equal("""{"type":"pong","id":"still-open"}""", (await socket.ReceiveJsonAsync("pong")).GetRawText());
        Assert.DoesNotContain(app.Logs.GetSnapshot(), record => record.Level >= LogLevel.Error);
    }
}

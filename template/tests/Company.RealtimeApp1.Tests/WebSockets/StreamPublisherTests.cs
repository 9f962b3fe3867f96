using Company.RealtimeApp1.WebSockets;

namespace Company.RealtimeApp1.Tests;

public sealed class StreamPublisherTests
{
    [Fact]
    public async Task AMessageThatIsNotStoredIsHeldToTheSocketLimitToo()
    {
        using var app = RealtimeApplication.With([]);
        var publisher = app.Services.GetRequiredService<StreamPublisher>();
        var message = new PresenceMessage(new PresenceUser(Guid.Empty, new string('x', 64 * 1024)), "online");

        var failure = await Assert.ThrowsAsync<MessageTooLargeException>(
            () => publisher.PublishAsync(new StreamId("presence", ""), message, PresenceJsonContext.Default.PresenceMessage).AsTask());

        Assert.Matches(@"^The message on 'presence' is \d+ bytes; a message may be at most 65536 bytes \(WebSockets:MaxMessageBytes\)\.$", failure.Message);
    }
}

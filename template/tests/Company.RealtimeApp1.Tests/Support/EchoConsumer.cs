using Company.RealtimeApp1.WebSockets;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// A consumer that exists only in the tests, so the realtime layer's tests do not depend on the example
/// consumers: at <see cref="Path"/> it answers <c>echo</c> with the same message, fails on <c>fault</c>, and
/// passes a <c>whisper</c> <c>{"to","text"}</c> to another user's sockets; at <c>/test/echo/{stream}</c> it also
/// joins the (unstored) stream <see cref="StreamFor"/>.
/// </summary>
public sealed class EchoConsumer : WebSocketConsumer
{
    public const string Path = "/test/echo";

    public const string Pattern = Path + "/{stream?}";

    public static StreamId StreamFor(string name) => new("echo", name);

    public override ValueTask OnConnectedAsync(ConsumerContext context) =>
        context.RouteValues["stream"] is string name ? context.JoinAsync(StreamFor(name)) : ValueTask.CompletedTask;

    public override async ValueTask<bool> OnMessageAsync(ConsumerContext context, IncomingMessage message)
    {
        switch (message.Type)
        {
            case "whisper":
                var whisper = message.Read<Whisper>();
                await context.SendToUserAsync(whisper.To, "whisper", new { whisper.Text });
                return true;
            case "echo":
                context.Send(message.Body);
                return true;
            case "fault":
                throw new InvalidOperationException("The echo consumer was asked to fail.");
            default:
                return false;
        }
    }

    private sealed record Whisper(Guid To, string? Text);
}

using Company.RealtimeApp1.Realtime;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// A consumer that exists only in the tests, at <see cref="Path"/>: it answers <c>echo</c> with the
/// same message, so the realtime layer's tests do not depend on the example consumers.
/// </summary>
public sealed class EchoConsumer : WebSocketConsumer
{
    public const string Path = "/test/echo";

    public override ValueTask<bool> OnMessageAsync(ConsumerContext context, IncomingMessage message)
    {
        if (message.Type != "echo")
        {
            return ValueTask.FromResult(false);
        }

        context.Send(message.Body);
        return ValueTask.FromResult(true);
    }
}

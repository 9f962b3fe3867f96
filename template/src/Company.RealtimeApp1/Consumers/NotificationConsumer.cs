using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.WebSockets;

namespace Company.RealtimeApp1.Consumers;

/// <summary><c>/ws/notifications</c>: each user receives their own notifications, and nothing else.</summary>
[Sends<NotificationContent>(UserNotifications.MessageType, Stored = true, Summary = "A notification of the user's, stored before it was sent.")]
public sealed class NotificationConsumer(StreamStore store) : WebSocketConsumer
{
    public override ValueTask OnConnectedAsync(ConsumerContext context) =>
        context.JoinAsync(UserNotifications.StreamOf(context.UserId), store);
}

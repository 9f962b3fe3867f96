using System.Text.Json;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.WebSockets;

namespace Company.RealtimeApp1.Consumers;

/// <summary>The members of a <c>notification</c> message besides its type, id and time.</summary>
public sealed record NotificationContent(string Title, string Body, JsonElement? Data);

/// <summary>
/// Per-user notifications: <see cref="NotifyUserAsync"/> stores a notification in the user's stream and then
/// publishes it, on whichever instances the user is connected. Callable from any code. Notifications are never
/// dropped, so a client can always catch up.
/// </summary>
public sealed class UserNotifications(StreamStore store)
{
    public const string MessageType = "notification";

    /// <summary>The stream of <paramref name="userId"/>'s notifications, <c>notifications:&lt;user id&gt;</c>.</summary>
    public static StreamId StreamOf(Guid userId) => StreamId.For("notifications", userId);

    /// <summary>
    /// Stores the notification, then delivers it live. Returns its id, its position in the user's stream. Throws
    /// <see cref="MessageTooLargeException"/>, storing nothing, when its message could exceed <c>WebSockets:MaxMessageBytes</c>.
    /// </summary>
    public Task<long> NotifyUserAsync(Guid userId, string title, string body, JsonElement? data = null, CancellationToken cancellationToken = default) =>
        store.AppendAsync(
            StreamOf(userId), MessageType, new NotificationContent(title, body, StoredMessage.Data(data)), ConsumersJsonContext.Default.NotificationContent,
            cancellationToken: cancellationToken);
}

using System.Linq.Expressions;
using System.Text.Json;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.WebSockets;

namespace Company.RealtimeApp1.Consumers;

/// <summary>The stream of one user's notifications: <c>notifications:&lt;user id&gt;</c>.</summary>
public readonly record struct NotificationStream(Guid UserId)
{
    private const string Prefix = "notifications:";

    public string Name => StreamNames.WithId(Prefix, UserId);

    public static bool TryParse(string stream, out NotificationStream parsed)
    {
        var found = StreamNames.TryReadId(stream, Prefix, orUnder: false, out var userId);
        parsed = new NotificationStream(userId);
        return found;
    }

    public override string ToString() => Name;
}

/// <summary>The members of a <c>notification</c> message besides its type, id and time.</summary>
public sealed record NotificationContent(string Title, string Body, JsonElement? Data);

/// <summary>
/// Per-user notifications: <see cref="NotifyUserAsync"/> stores a notification and then publishes it to
/// the user's stream, on whichever instances the user is connected. Callable from any code. Notifications
/// are never dropped, so a client can always catch up.
/// </summary>
public sealed class UserNotifications(StoredStreamServices services)
    : StoredStream<Notification, NotificationContent>(services, "notification", "notification", ConsumersJsonContext.Default.NotificationContent)
{
    /// <summary>
    /// Stores the notification, then delivers it live. Returns its id. Throws <see cref="MessageTooLargeException"/>,
    /// storing nothing, when its message could exceed <c>WebSockets:MaxMessageBytes</c>.
    /// </summary>
    public async Task<long> NotifyUserAsync(Guid userId, string title, string body, JsonElement? data = null, CancellationToken cancellationToken = default)
    {
        var notification = new Notification { UserId = userId, Title = title, Body = body, Data = StoredMessage.DataText(data) };
        var stored = await StoreAndPublishAsync(notification, new NotificationContent(title, body, StoredMessage.Data(data)), cancellationToken);
        return stored.Id;
    }

    protected override string StreamOf(Notification stored) => new NotificationStream(stored.UserId).Name;

    protected override Expression<Func<Notification, Guid>> StreamKey => n => n.UserId;

    protected override Guid? StreamKeyOf(string stream) => NotificationStream.TryParse(stream, out var parsed) ? parsed.UserId : null;

    protected override NotificationContent ContentOf(Notification stored) =>
        new(stored.Title, stored.Body, StoredMessage.DataFromText(stored.Data));
}

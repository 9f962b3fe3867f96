using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Realtime;
using Microsoft.EntityFrameworkCore;

namespace Company.RealtimeApp1.Consumers;

/// <summary>The <c>notification</c> message a client receives.</summary>
public sealed record NotificationMessage(long Id, string Title, string Body, JsonElement? Data, DateTimeOffset CreatedAt)
{
    [JsonPropertyOrder(-1)]
    public string Type => "notification";

    public static NotificationMessage From(Notification notification) => new(
        notification.Id,
        notification.Title,
        notification.Body,
        notification.Data is null ? null : JsonDocument.Parse(notification.Data).RootElement.Clone(),
        new DateTimeOffset(DateTime.SpecifyKind(notification.CreatedAt, DateTimeKind.Utc)));
}

/// <summary>
/// Per-user notifications: <see cref="NotifyUserAsync"/> stores a notification and then publishes it to
/// the user's stream, on whichever instances the user is connected. Callable from any code.
/// </summary>
public sealed class UserNotifications(IServiceScopeFactory scopes, StreamStore<AppDbContext> store, PublishedMessageLimit limit, TimeProvider time) : IStreamHistory
{
    private const string StreamPrefix = "notifications:";

    public static string StreamFor(Guid userId) => StreamPrefix + userId.ToString("N");

    /// <summary>
    /// Stores the notification, then delivers it live. Returns its id. Throws <see cref="MessageTooLargeException"/>,
    /// storing nothing, when its message could exceed <c>WebSockets:MaxMessageBytes</c>.
    /// </summary>
    public async Task<long> NotifyUserAsync(Guid userId, string title, string body, JsonElement? data = null, CancellationToken cancellationToken = default)
    {
        var notification = new Notification
        {
            UserId = userId,
            Title = title,
            Body = body,
            Data = data is { ValueKind: not JsonValueKind.Undefined and not JsonValueKind.Null } json ? json.GetRawText() : null,
            CreatedAt = time.GetUtcNow().UtcDateTime,
        };

        limit.EnsureFits("notification", Frame(notification, PublishedMessageLimit.WidestId, PublishedMessageLimit.WidestTime));
        await store.StoreAndPublishAsync(notification, ToStreamMessage, cancellationToken);
        return notification.Id;
    }

    public async IAsyncEnumerable<StreamMessage> ReadSinceAsync(
        string stream, long since, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var userId = Guid.Parse(stream.AsSpan(StreamPrefix.Length));
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var stored = db.Notifications.AsNoTracking()
            .Where(n => n.UserId == userId && n.Id > since)
            .OrderBy(n => n.Id)
            .AsAsyncEnumerable();
        await foreach (var notification in stored.WithCancellation(cancellationToken))
        {
            yield return ToStreamMessage(notification);
        }
    }

    /// <summary>Notifications are never dropped, so a client can always catch up.</summary>
    public ValueTask<bool> HasEverythingSinceAsync(string stream, long since, CancellationToken cancellationToken) =>
        ValueTask.FromResult(true);

    private static StreamMessage ToStreamMessage(Notification notification) => new(
        StreamFor(notification.UserId),
        notification.Id,
        JsonSerializer.SerializeToUtf8Bytes(NotificationMessage.From(notification), ConsumersJsonContext.Default.NotificationMessage));

    /// <summary>The frame <paramref name="notification"/> would be with this id and timestamp: the one it is measured by.</summary>
    private static byte[] Frame(Notification notification, long id, DateTimeOffset createdAt) => JsonSerializer.SerializeToUtf8Bytes(
        NotificationMessage.From(notification) with { Id = id, CreatedAt = createdAt }, ConsumersJsonContext.Default.NotificationMessage);
}

using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Company.RealtimeApp1.WebSockets;
using Microsoft.EntityFrameworkCore;

namespace Company.RealtimeApp1.Data;

/// <summary>An entity that is one stored message of a stream: its id orders the stream, its time is set when it is stored.</summary>
public interface IStoredMessage
{
    /// <summary>Assigned by the database; increases along every stream.</summary>
    long Id { get; }

    /// <summary>UTC. Set by <see cref="StoredStream{TEntity, TContent}"/>, read back from the database without a kind.</summary>
    DateTime CreatedAt { get; set; }
}

/// <summary>How stored messages keep their free-form JSON and their times.</summary>
public static class StoredMessage
{
    /// <summary><paramref name="data"/>, unless it is absent or JSON <c>null</c>: both are stored as no data.</summary>
    public static JsonElement? Data(JsonElement? data) =>
        data is { ValueKind: not JsonValueKind.Undefined and not JsonValueKind.Null } ? data : null;

    /// <summary>The text <paramref name="data"/> is stored as.</summary>
    public static string? DataText(JsonElement? data) => Data(data)?.GetRawText();

    /// <summary>Stored text back to JSON, for a message read from the database.</summary>
    public static JsonElement? DataFromText(string? text) => text is null ? null : JsonDocument.Parse(text).RootElement.Clone();

    /// <summary>A stored time as the UTC instant it is (the database keeps no kind).</summary>
    public static DateTimeOffset Utc(DateTime stored) => new(DateTime.SpecifyKind(stored, DateTimeKind.Utc));
}

/// <summary>What every <see cref="StoredStream{TEntity, TContent}"/> needs, in one dependency.</summary>
public sealed class StoredStreamServices(IServiceScopeFactory scopes, StreamStore<AppDbContext> store, StreamPublisher publisher, TimeProvider time)
{
    internal IServiceScopeFactory Scopes => scopes;

    internal StreamStore<AppDbContext> Store => store;

    internal StreamPublisher Publisher => publisher;

    internal TimeProvider Time => time;
}

/// <summary>
/// A stream whose messages are stored before they are sent: one <typeparamref name="TEntity"/> row per message,
/// sent as <c>{"type":<paramref name="messageType"/>,"id",…<typeparamref name="TContent"/>…,"createdAt"}</c>, and
/// replayed to clients that resume. A consumer's store derives from it and says only what is particular to it:
/// which stream a row belongs to, which rows a stream has, and the content of a row.
/// </summary>
/// <remarks>
/// The size rule of SPEC §2 is applied here, in the only way a message is stored, so no store can forget it:
/// the frame is measured once with the widest id and time, refused over <c>WebSockets:MaxMessageBytes</c>
/// with <see cref="MessageTooLargeException"/> before anything is stored, and the same serialization becomes
/// the frame that is sent.
/// </remarks>
public abstract class StoredStream<TEntity, TContent>(
    StoredStreamServices services, string messageType, string what, JsonTypeInfo<TContent> contentType) : IStreamHistory
    where TEntity : class, IStoredMessage
{
    protected IServiceScopeFactory Scopes => services.Scopes;

    /// <summary>The stream <paramref name="stored"/> is published on.</summary>
    protected abstract string StreamOf(TEntity stored);

    /// <summary>The column that says which stream a row is on (a user's id, an organization's).</summary>
    protected abstract Expression<Func<TEntity, Guid>> StreamKey { get; }

    /// <summary>The <see cref="StreamKey"/> of <paramref name="stream"/>'s rows, or null when it is not one of this store's streams.</summary>
    protected abstract Guid? StreamKeyOf(string stream);

    /// <summary>The content of a row read back from the database.</summary>
    protected abstract TContent ContentOf(TEntity stored);

    /// <summary>
    /// Stores <paramref name="entity"/> and then publishes <paramref name="content"/> as its message. Returns the
    /// stored entity, its id set. Throws <see cref="MessageTooLargeException"/>, storing nothing, when the
    /// message could exceed <c>WebSockets:MaxMessageBytes</c>.
    /// </summary>
    protected async Task<TEntity> StoreAndPublishAsync(TEntity entity, TContent content, CancellationToken cancellationToken)
    {
        var frame = services.Publisher.PrepareStored(what, messageType, content, contentType);
        var now = services.Time.GetUtcNow();
        entity.CreatedAt = now.UtcDateTime;
        await services.Store.StoreAndPublishAsync(entity, stored => frame.ToMessage(StreamOf(stored), stored.Id, now), cancellationToken);
        return entity;
    }

    public async IAsyncEnumerable<StreamMessage> ReadSinceAsync(
        string stream, long since, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (StreamKeyOf(stream) is not { } key)
        {
            yield break;
        }

        await using var scope = services.Scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var stored = db.Set<TEntity>().AsNoTracking()
            .Where(Having(key))
            .Where(m => m.Id > since)
            .OrderBy(m => m.Id)
            .AsAsyncEnumerable();
        await foreach (var message in stored.WithCancellation(cancellationToken))
        {
            yield return StoredFrame.Create(messageType, ContentOf(message), contentType)
                .ToMessage(stream, message.Id, StoredMessage.Utc(message.CreatedAt));
        }
    }

    public async ValueTask<long> LatestIdAsync(string stream, CancellationToken cancellationToken)
    {
        if (StreamKeyOf(stream) is not { } key)
        {
            return 0;
        }

        await using var scope = services.Scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        return await db.Set<TEntity>().Where(Having(key)).MaxAsync(m => (long?)m.Id, cancellationToken) ?? 0;
    }

    /// <summary>The rows whose <see cref="StreamKey"/> is <paramref name="key"/>.</summary>
    private Expression<Func<TEntity, bool>> Having(Guid key)
    {
        // Read from a field rather than inlined as a constant, so the database sees a parameter and the
        // query is compiled once for every stream, not once per stream.
        var value = Expression.Field(Expression.Constant(new StrongBox<Guid>(key)), nameof(StrongBox<>.Value));
        var column = StreamKey;
        return Expression.Lambda<Func<TEntity, bool>>(Expression.Equal(column.Body, value), column.Parameters);
    }

    /// <summary>True unless the store drops old messages: then it says whether it still has those after <paramref name="since"/>.</summary>
    public virtual ValueTask<bool> HasEverythingSinceAsync(string stream, long since, CancellationToken cancellationToken) =>
        ValueTask.FromResult(true);
}

using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Realtime;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Consumers;

/// <summary>The <c>org.event</c> message a member receives.</summary>
public sealed record OrganizationEventMessage(
    long Id, Guid OrgId, string Event, JsonElement? Data, EventSender Sender, DateTimeOffset CreatedAt)
{
    [JsonPropertyOrder(-1)]
    public string Type => "org.event";

    public static OrganizationEventMessage From(OrganizationEvent stored) => new(
        stored.Id,
        stored.OrganizationId,
        stored.Type,
        stored.Data is null ? null : JsonDocument.Parse(stored.Data).RootElement.Clone(),
        new EventSender(stored.SenderId, stored.SenderName),
        new DateTimeOffset(DateTime.SpecifyKind(stored.CreatedAt, DateTimeKind.Utc)));
}

public sealed record EventSender(Guid Id, string Username);

/// <summary>
/// Per-organization events: <see cref="PublishOrgEventAsync"/> stores an event, broadcasts it, and trims
/// the history to <c>WebSockets:OrgHistory</c> events. The broadcast goes to every member connected to the
/// organization's stream, on every instance. Callable from any code.
/// </summary>
public sealed class OrganizationEvents(
    IServiceScopeFactory scopes,
    StreamStore<AppDbContext> store,
    PublishedMessageLimit limit,
    IOptions<RealtimeOptions> options,
    TimeProvider time) : IStreamHistory
{
    private const string StreamPrefix = "org:";

    public static string StreamFor(Guid organizationId) => StreamPrefix + organizationId.ToString("N");

    /// <summary>The organization of an organization's stream, or of a stream under it (<c>org:&lt;id&gt;:…</c>).</summary>
    public static bool TryReadStream(string stream, out Guid organizationId)
    {
        organizationId = default;
        var rest = stream.AsSpan();
        if (!rest.StartsWith(StreamPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        rest = rest[StreamPrefix.Length..];
        var end = rest.IndexOf(':');
        return Guid.TryParseExact(end < 0 ? rest : rest[..end], "N", out organizationId);
    }

    /// <summary>
    /// Stores the event, then broadcasts it. Returns its id. Throws <see cref="MessageTooLargeException"/>,
    /// storing nothing, when its message could exceed <c>WebSockets:MaxMessageBytes</c>.
    /// </summary>
    public async Task<long> PublishOrgEventAsync(
        Guid organizationId, EventSender sender, string type, JsonElement? data = null, CancellationToken cancellationToken = default)
    {
        var stored = new OrganizationEvent
        {
            OrganizationId = organizationId,
            Type = type,
            Data = data is { ValueKind: not JsonValueKind.Undefined and not JsonValueKind.Null } json ? json.GetRawText() : null,
            SenderId = sender.Id,
            SenderName = sender.Username,
            CreatedAt = time.GetUtcNow().UtcDateTime,
        };

        limit.EnsureFits("event", Frame(stored, PublishedMessageLimit.WidestId, PublishedMessageLimit.WidestTime));
        await store.StoreAndPublishAsync(stored, ToStreamMessage, cancellationToken);
        // Trimming on every publish would double its cost; trimming every so often keeps the history
        // bounded all the same (a few percent over OrgHistory), and resume reads the true watermark.
        if (stored.Id % Math.Max(1, options.Value.OrgHistory / 64) == 0)
        {
            await TrimHistoryAsync(organizationId, cancellationToken);
        }

        return stored.Id;
    }

    public async IAsyncEnumerable<StreamMessage> ReadSinceAsync(
        string stream, long since, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var organizationId = ParseStream(stream);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var stored = db.OrganizationEvents.AsNoTracking()
            .Where(e => e.OrganizationId == organizationId && e.Id > since)
            .OrderBy(e => e.Id)
            .AsAsyncEnumerable();
        await foreach (var organizationEvent in stored.WithCancellation(cancellationToken))
        {
            yield return ToStreamMessage(organizationEvent);
        }
    }

    public async ValueTask<bool> HasEverythingSinceAsync(string stream, long since, CancellationToken cancellationToken)
    {
        var organizationId = ParseStream(stream);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var trimmedThrough = await db.Organizations.Where(o => o.Id == organizationId)
            .Select(o => o.EventsTrimmedThrough).SingleOrDefaultAsync(cancellationToken);
        return since >= trimmedThrough;
    }

    /// <summary>Drops all but the newest <c>OrgHistory</c> events and remembers where the history now starts.</summary>
    private async Task TrimHistoryAsync(Guid organizationId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var lastDropped = await db.OrganizationEvents
            .Where(e => e.OrganizationId == organizationId)
            .OrderByDescending(e => e.Id)
            .Skip(options.Value.OrgHistory)
            .Select(e => (long?)e.Id)
            .FirstOrDefaultAsync(cancellationToken);
        if (lastDropped is not { } through)
        {
            return;
        }

        await db.OrganizationEvents
            .Where(e => e.OrganizationId == organizationId && e.Id <= through)
            .ExecuteDeleteAsync(cancellationToken);
        await db.Organizations
            .Where(o => o.Id == organizationId && o.EventsTrimmedThrough < through)
            .ExecuteUpdateAsync(o => o.SetProperty(x => x.EventsTrimmedThrough, through), cancellationToken);
    }

    private static Guid ParseStream(string stream) => Guid.Parse(stream.AsSpan(StreamPrefix.Length));

    private static StreamMessage ToStreamMessage(OrganizationEvent stored) => new(
        StreamFor(stored.OrganizationId),
        stored.Id,
        JsonSerializer.SerializeToUtf8Bytes(OrganizationEventMessage.From(stored), ConsumersJsonContext.Default.OrganizationEventMessage));

    /// <summary>The frame <paramref name="stored"/> would be with this id and timestamp: the one it is measured by.</summary>
    private static byte[] Frame(OrganizationEvent stored, long id, DateTimeOffset createdAt) => JsonSerializer.SerializeToUtf8Bytes(
        OrganizationEventMessage.From(stored) with { Id = id, CreatedAt = createdAt }, ConsumersJsonContext.Default.OrganizationEventMessage);
}

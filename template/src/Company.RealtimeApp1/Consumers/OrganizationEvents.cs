using System.Linq.Expressions;
using System.Text.Json;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.WebSockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Consumers;

/// <summary>The members of an <c>org.event</c> message besides its type, id and time.</summary>
public sealed record OrganizationEventContent(Guid OrgId, string Event, JsonElement? Data, EventSender Sender);

public sealed record EventSender(Guid Id, string Username);

/// <summary>
/// Per-organization events: <see cref="PublishOrgEventAsync"/> stores an event, broadcasts it, and trims
/// the history to <c>WebSockets:OrgHistory</c> events. The broadcast goes to every member connected to the
/// organization's stream, on every instance. Callable from any code.
/// </summary>
public sealed class OrganizationEvents(StoredStreamServices services, IOptions<OrganizationEventsOptions> options)
    : StoredStream<OrganizationEvent, OrganizationEventContent>(services, "org.event", "event", ConsumersJsonContext.Default.OrganizationEventContent)
{
    public const int MaxEventNameLength = 100;

    /// <summary>The rule for an event's name, wherever it comes from (the REST API, a socket's <c>publish</c>).</summary>
    public static bool IsEventName(string? name) => !string.IsNullOrWhiteSpace(name) && name.Length <= MaxEventNameLength;

    /// <summary>
    /// Stores the event, then broadcasts it. Returns its id. Throws <see cref="MessageTooLargeException"/>,
    /// storing nothing, when its message could exceed <c>WebSockets:MaxMessageBytes</c>.
    /// </summary>
    public async Task<long> PublishOrgEventAsync(
        Guid organizationId, EventSender sender, string type, JsonElement? data = null, CancellationToken cancellationToken = default)
    {
        if (!IsEventName(type))
        {
            throw new ArgumentException($"An event name is 1 to {MaxEventNameLength} characters.", nameof(type));
        }

        var organizationEvent = new OrganizationEvent
        {
            OrganizationId = organizationId,
            Type = type,
            Data = StoredMessage.DataText(data),
            SenderId = sender.Id,
            SenderName = sender.Username,
        };
        var stored = await StoreAndPublishAsync(
            organizationEvent, new OrganizationEventContent(organizationId, type, StoredMessage.Data(data), sender), cancellationToken);
        // Trimming on every publish would double its cost; trimming every so often keeps the history
        // bounded all the same (a few percent over OrgHistory), and resume reads the true watermark.
        if (stored.Id % Math.Max(1, options.Value.OrgHistory / 64) == 0)
        {
            await TrimHistoryAsync(organizationId, cancellationToken);
        }

        return stored.Id;
    }

    public override async ValueTask<bool> HasEverythingSinceAsync(string stream, long since, CancellationToken cancellationToken)
    {
        if (!OrganizationStream.TryParse(stream, out var organization))
        {
            return false;
        }

        await using var scope = Scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var trimmedThrough = await db.Organizations.Where(o => o.Id == organization.OrganizationId)
            .Select(o => o.EventsTrimmedThrough).SingleOrDefaultAsync(cancellationToken);
        return since >= trimmedThrough;
    }

    protected override string StreamOf(OrganizationEvent stored) => new OrganizationStream(stored.OrganizationId).Name;

    protected override Expression<Func<OrganizationEvent, Guid>> StreamKey => e => e.OrganizationId;

    protected override Guid? StreamKeyOf(string stream) => OrganizationStream.TryParse(stream, out var parsed) ? parsed.OrganizationId : null;

    protected override OrganizationEventContent ContentOf(OrganizationEvent stored) => new(
        stored.OrganizationId, stored.Type, StoredMessage.DataFromText(stored.Data), new EventSender(stored.SenderId, stored.SenderName));

    /// <summary>Drops all but the newest <c>OrgHistory</c> events and remembers where the history now starts.</summary>
    private async Task TrimHistoryAsync(Guid organizationId, CancellationToken cancellationToken)
    {
        await using var scope = Scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var lastDropped = await db.Set<OrganizationEvent>()
            .Where(e => e.OrganizationId == organizationId)
            .OrderByDescending(e => e.Id)
            .Skip(options.Value.OrgHistory)
            .Select(e => (long?)e.Id)
            .FirstOrDefaultAsync(cancellationToken);
        if (lastDropped is not { } through)
        {
            return;
        }

        await db.Set<OrganizationEvent>()
            .Where(e => e.OrganizationId == organizationId && e.Id <= through)
            .ExecuteDeleteAsync(cancellationToken);
        await db.Organizations
            .Where(o => o.Id == organizationId && o.EventsTrimmedThrough < through)
            .ExecuteUpdateAsync(o => o.SetProperty(x => x.EventsTrimmedThrough, through), cancellationToken);
    }
}

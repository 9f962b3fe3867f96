using System.Text.Json;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.WebSockets;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Consumers;

/// <summary>The members of an <c>org.event</c> message besides its type, id and time.</summary>
public sealed record OrganizationEventContent(Guid OrgId, string Event, JsonElement? Data, EventSender Sender);

public sealed record EventSender(Guid Id, string Username);

/// <summary>
/// Per-organization events: <see cref="PublishOrgEventAsync"/> stores an event in the organization's stream,
/// broadcasts it, and trims the history to <c>WebSockets:OrgHistory</c> events. The broadcast goes to every
/// member connected to the organization's stream, on every instance. Callable from any code.
/// </summary>
public sealed class OrganizationEvents(StreamStore store, IOptions<OrganizationEventsOptions> options)
{
    public const string MessageType = "org.event";

    public const int MaxEventNameLength = 100;

    /// <summary>The rule for an event's name, wherever it comes from (the REST API's <see cref="EventNameAttribute"/>, a socket's <c>publish</c>).</summary>
    public static bool IsEventName(string? name) => !string.IsNullOrWhiteSpace(name) && name.Length <= MaxEventNameLength;

    /// <summary>
    /// Stores the event, then broadcasts it. Returns its id, its position in the organization's stream. Throws
    /// <see cref="MessageTooLargeException"/>, storing nothing, when its message could exceed <c>WebSockets:MaxMessageBytes</c>.
    /// </summary>
    public async Task<long> PublishOrgEventAsync(
        Guid organizationId, EventSender sender, string type, JsonElement? data = null, CancellationToken cancellationToken = default)
    {
        if (!IsEventName(type))
        {
            throw new ArgumentException($"An event name is 1 to {MaxEventNameLength} characters.", nameof(type));
        }

        var stream = OrganizationStream.For(organizationId);
        var id = await store.AppendAsync(
            stream, MessageType, new OrganizationEventContent(organizationId, type, StoredMessage.Data(data), sender),
            ConsumersJsonContext.Default.OrganizationEventContent, sender.Id, cancellationToken);
        // Trimming on every publish would double its cost; trimming every so often keeps the history bounded
        // all the same (a few percent over OrgHistory). A resume reads where the history starts from the rows.
        if (id % Math.Max(1, options.Value.OrgHistory / 64) == 0)
        {
            await store.TrimAsync(stream, options.Value.OrgHistory, cancellationToken);
        }

        return id;
    }
}

/// <summary>An event's name, as <see cref="OrganizationEvents.IsEventName"/> has it.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Parameter)]
public sealed class EventNameAttribute()
    : System.ComponentModel.DataAnnotations.ValidationAttribute($"A type of 1 to {OrganizationEvents.MaxEventNameLength} characters is required.")
{
    public override bool IsValid(object? value) => value is string name && OrganizationEvents.IsEventName(name);
}

using System.Text.Json;
using Company.RealtimeApp1.Realtime;

namespace Company.RealtimeApp1.Consumers;

/// <summary>
/// <c>/ws/events/{orgId}</c>: members receive their organization's events and may <c>publish</c> one.
/// Membership was checked at the handshake by the <c>OrganizationMember</c> policy.
/// </summary>
public sealed class OrganizationEventsConsumer(OrganizationEvents events) : WebSocketConsumer
{
    private Guid _organizationId;

    public override ValueTask OnConnectedAsync(ConsumerContext context)
    {
        _organizationId = Guid.Parse((string)context.RouteValues["orgId"]!);
        return context.JoinAsync(OrganizationEvents.StreamFor(_organizationId), events);
    }

    public override async ValueTask<bool> OnMessageAsync(ConsumerContext context, IncomingMessage message)
    {
        if (message.Type != "publish")
        {
            return false;
        }

        var publish = message.Read<PublishMessage>();
        OrganizationEventRules.Validate(publish.Event);
        try
        {
            await events.PublishOrgEventAsync(
                _organizationId, new EventSender(context.UserId, context.UserName), publish.Event!, publish.Data, context.Closing);
        }
        catch (MessageTooLargeException exception)
        {
            throw new InvalidMessageException(exception.Message);
        }

        return true;
    }

    private sealed record PublishMessage(string? Event, JsonElement? Data);
}

internal static class OrganizationEventRules
{
    public const int MaxTypeLength = 100;

    /// <summary>Throws <see cref="InvalidMessageException"/> unless <paramref name="type"/> is a usable event name.</summary>
    public static void Validate(string? type)
    {
        if (string.IsNullOrWhiteSpace(type) || type.Length > MaxTypeLength)
        {
            throw new InvalidMessageException($"'event' must be a non-empty string of at most {MaxTypeLength} characters.");
        }
    }
}

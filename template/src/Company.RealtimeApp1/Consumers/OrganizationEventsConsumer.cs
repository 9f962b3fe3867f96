using System.Text.Json;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.WebSockets;

namespace Company.RealtimeApp1.Consumers;

/// <summary>
/// <c>/ws/events/{orgId}</c>: members receive their organization's events and may <c>publish</c> one.
/// Membership was checked at the handshake by the <c>OrganizationMember</c> policy.
/// </summary>
public sealed class OrganizationEventsConsumer(OrganizationEvents events, StreamStore store) : WebSocketConsumer
{
    private Guid _organizationId;

    public override ValueTask OnConnectedAsync(ConsumerContext context)
    {
        _organizationId = Guid.Parse((string)context.RouteValues["orgId"]!);
        return context.JoinAsync(OrganizationStream.For(_organizationId), store);
    }

    public override async ValueTask<bool> OnMessageAsync(ConsumerContext context, IncomingMessage message)
    {
        if (message.Type != "publish")
        {
            return false;
        }

        var publish = message.Read<PublishMessage>();
        if (!OrganizationEvents.IsEventName(publish.Event))
        {
            throw new InvalidMessageException($"'event' must be a non-empty string of at most {OrganizationEvents.MaxEventNameLength} characters.");
        }

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

using System.Text.Json;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.WebSockets;

namespace Company.RealtimeApp1.Consumers;

/// <summary>
/// <c>/ws/events/{orgId}</c>: members receive their organization's events and may <c>publish</c> one. Who may
/// connect is said once, in <see cref="AuthorizeAsync"/>: checked at the handshake and at every <c>auth.refresh</c>.
/// </summary>
public sealed class OrganizationEventsConsumer(OrganizationEvents events, OrganizationMemberships memberships, StreamStore store)
    : WebSocketConsumer<Organization>
{
    protected override string ForbiddenDetail => OrganizationMembershipHandler.NotAMember;

    protected override async ValueTask<Organization?> AuthorizeAsync(ConsumerRequest request) =>
        request.RouteGuid("orgId") is { } organizationId
            ? await memberships.FindForMemberAsync(request.UserId, organizationId, request.Aborted)
            : null;

    public override ValueTask OnConnectedAsync(ConsumerContext context) =>
        context.JoinAsync(OrganizationStream.For(Resource.Id), store);

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

        // Too large for a socket: the realtime layer answers invalid_message.
        await events.PublishOrgEventAsync(Resource.Id, new EventSender(context.UserId, context.UserName), publish.Event!, publish.Data, context.Closing);
        return true;
    }

    private sealed record PublishMessage(string? Event, JsonElement? Data);
}

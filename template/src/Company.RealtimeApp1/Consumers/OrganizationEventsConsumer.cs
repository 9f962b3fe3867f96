using System.Text.Json;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.WebSockets;

namespace Company.RealtimeApp1.Consumers;

/// <summary>
/// <c>/ws/events/{orgId}</c>: members receive their organization's events and may <c>publish</c> one, see who is
/// online (presence), and send <c>signal</c>s (typing, say) to the others. Who may connect is said once, in
/// <see cref="AuthorizeAsync"/>: checked at the handshake and at every <c>auth.refresh</c>.
/// </summary>
[Sends<OrganizationEventContent>(OrganizationEvents.MessageType, Stored = true, Summary = "An event of the organization's, stored before it was sent.")]
[Sends<OrganizationSignal>(OrgSignalType, Summary = "Another member's signal (typing, say): never stored, no id.")]
[SendsPresence]
[Receives<PublishMessage>(PublishType, Summary = "Stores an event of the organization's and sends it to every member connected (as POST /api/orgs/{orgId}/events).")]
[Receives<SignalMessage>(SignalType, Summary = "Sends org.signal to the organization's other sockets at once, on every instance.")]
public sealed class OrganizationEventsConsumer(OrganizationEvents events, OrganizationMemberships memberships, StreamStore store)
    : WebSocketConsumer<Organization>
{
    private const string PublishType = "publish";
    private const string SignalType = "signal";
    private const string OrgSignalType = "org.signal";

    protected override string ForbiddenDetail => OrganizationMembershipHandler.NotAMember;

    protected override async ValueTask<Organization?> AuthorizeAsync(ConsumerRequest request) =>
        request.RouteGuid("orgId") is { } organizationId
            ? await memberships.FindForMemberAsync(request.UserId, organizationId, request.Aborted)
            : null;

    public override ValueTask OnConnectedAsync(ConsumerContext context) =>
        context.JoinAsync(OrganizationStream.For(Resource.Id), store, presence: true);

    public override ValueTask<bool> OnMessageAsync(ConsumerContext context, IncomingMessage message) => message.Type switch
    {
        PublishType => PublishAsync(context, message.Read<PublishMessage>()),
        SignalType => SignalAsync(context, message.Read<SignalMessage>()),
        _ => ValueTask.FromResult(false),
    };

    private async ValueTask<bool> PublishAsync(ConsumerContext context, PublishMessage publish)
    {
        if (!OrganizationEvents.IsEventName(publish.Event))
        {
            throw new InvalidMessageException($"'event' must be a non-empty string of at most {OrganizationEvents.MaxEventNameLength} characters.");
        }

        // Too large for a socket: the realtime layer answers invalid_message.
        await events.PublishOrgEventAsync(Resource.Id, new EventSender(context.UserId, context.UserName), publish.Event!, publish.Data, context.Closing);
        return true;
    }

    /// <summary>Never stored, never replayed, no id: to the organization's other sockets, on every instance, at once.</summary>
    private async ValueTask<bool> SignalAsync(ConsumerContext context, SignalMessage signal)
    {
        if (!OrganizationEvents.IsEventName(signal.Event))
        {
            throw new InvalidMessageException($"'event' must be a non-empty string of at most {OrganizationEvents.MaxEventNameLength} characters.");
        }

        await context.PublishToOthersAsync(
            OrganizationStream.For(Resource.Id), new OrganizationSignal(signal.Event!, StoredMessage.Data(signal.Data), new EventSender(context.UserId, context.UserName)));
        return true;
    }

    private sealed record PublishMessage(string? Event, JsonElement? Data);

    private sealed record SignalMessage(string? Event, JsonElement? Data);

    /// <summary><c>{"type":"org.signal","event","data","sender":{"id","username"}}</c>.</summary>
    private sealed record OrganizationSignal(string Event, JsonElement? Data, EventSender Sender)
    {
        [System.Text.Json.Serialization.JsonPropertyOrder(-1)]
        public string Type => OrgSignalType;
    }
}

using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.WebSockets;

namespace Company.RealtimeApp1.Consumers;

/// <summary><c>/ws/announcements/{orgId}</c>: members get the organization's announcements, make them, and see who is typing one.</summary>
[Sends<Announcement>("announcement", Stored = true)]   // its messages, for the AsyncAPI document (/asyncapi/v1.json)
[Sends<Envelope<Typing>>("typing")]
[Receives<Announce>("announce")]
[Receives<object>("typing")]                            // nothing but its type
public sealed class AnnouncementsConsumer(OrganizationMemberships memberships, StreamStore store) : WebSocketConsumer<Organization>
{
    private StreamId _stream = null!;

    /// <summary>The organization's announcements: under its stream, so a removed member loses them too.</summary>
    public static StreamId StreamFor(Guid organizationId) => new("announcements", "", OrganizationStream.For(organizationId));

    // Who may connect, said once: checked at the handshake and at every auth.refresh. What it finds is Resource.
    protected override async ValueTask<Organization?> AuthorizeAsync(ConsumerRequest request) =>
        request.RouteGuid("orgId") is { } orgId ? await memberships.FindForMemberAsync(request.UserId, orgId, request.Aborted) : null;

    protected override string ForbiddenDetail => "You are not a member of this organization.";

    public override ValueTask OnConnectedAsync(ConsumerContext context)
    {
        _stream = StreamFor(Resource.Id);
        return context.JoinAsync(_stream, store);   // stored messages, in order, with resume on ?since=
    }

    public override async ValueTask<bool> OnMessageAsync(ConsumerContext context, IncomingMessage message)
    {
        switch (message.Type)
        {
            case "announce":
                var text = message.Read<Announce>().Text;
                if (string.IsNullOrWhiteSpace(text))
                {
                    throw new InvalidMessageException("'text' is required.");   // error invalid_message
                }

                // Stored at the stream's next position, then sent to every member on every instance:
                // {"type":"announcement","id",…,"text","by","createdAt"}.
                await store.AppendAsync(_stream, "announcement", new Announcement(text, context.UserName), context.UserId, context.Closing);
                return true;
            case "typing":
                // Not stored: {"type":"typing","data":{…},"sender":{"id","username"}} to everyone on it but this socket.
                await context.SendToOthersAsync(_stream, "typing", new Typing(Resource.Slug));
                return true;
            default:
                return false;   // error unknown_type
        }
    }

    private sealed record Announce(string? Text);

    private sealed record Typing(string Organization);
}

public sealed record Announcement(string Text, string By);

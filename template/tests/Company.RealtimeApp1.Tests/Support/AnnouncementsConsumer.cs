using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.WebSockets;

namespace Company.RealtimeApp1.Consumers;

/// <summary><c>/ws/announcements/{orgId}</c>: members get the organization's announcements, and may make one.</summary>
public sealed class AnnouncementsConsumer(StreamStore store) : WebSocketConsumer
{
    private StreamId? _stream;

    /// <summary>The organization's announcements: under its stream, so a removed member loses them too.</summary>
    public static StreamId StreamFor(Guid organizationId) => new("announcements", "", OrganizationStream.For(organizationId));

    public override ValueTask OnConnectedAsync(ConsumerContext context)
    {
        _stream = StreamFor(Guid.Parse((string)context.RouteValues["orgId"]!));
        return context.JoinAsync(_stream, store);
    }

    public override async ValueTask<bool> OnMessageAsync(ConsumerContext context, IncomingMessage message)
    {
        if (message.Type != "announce")
        {
            return false;
        }

        var text = message.Read<Announce>().Text;
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new InvalidMessageException("'text' is required.");
        }

        // Stored at the stream's next position, then sent to every member on every instance as
        // {"type":"announcement","id",…,"text","createdAt"}.
        await store.AppendAsync(_stream!, "announcement", new Announcement(text, context.UserName), context.UserId, context.Closing);
        return true;
    }

    private sealed record Announce(string? Text);
}

public sealed record Announcement(string Text, string By);

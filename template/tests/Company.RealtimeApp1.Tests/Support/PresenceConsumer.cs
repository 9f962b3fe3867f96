using System.Text.Json.Serialization;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.WebSockets;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// A consumer that exists only in the tests, at <see cref="Path"/>: members of an organization join its
/// <c>presence</c> stream, under the organization's, and a <c>presence</c> message a member sends goes to
/// every member on it. Nothing is stored. It uses the seams a new consumer would, and nothing else.
/// </summary>
public sealed class PresenceConsumer(StreamPublisher publisher) : WebSocketConsumer
{
    public const string Path = "/test/presence/{orgId}";

    /// <summary>The presence endpoint of the organization <paramref name="organizationId"/>.</summary>
    public static string PathFor(Guid organizationId) => PathFor(organizationId.ToString());

    /// <summary>The presence endpoint for the route value <paramref name="orgId"/>, which need not be an organization's id.</summary>
    public static string PathFor(string orgId) => Path.Replace("{orgId}", orgId, StringComparison.Ordinal);

    private StreamId? _stream;

    public override ValueTask OnConnectedAsync(ConsumerContext context)
    {
        _stream = new StreamId("presence", "", OrganizationStream.For(Guid.Parse((string)context.RouteValues["orgId"]!)));
        return context.JoinAsync(_stream);
    }

    public override async ValueTask<bool> OnMessageAsync(ConsumerContext context, IncomingMessage message)
    {
        if (message.Type != "presence")
        {
            return false;
        }

        var status = message.Read<PresenceUpdate>().Status;
        if (status is not ("online" or "away"))
        {
            throw new InvalidMessageException("'status' is 'online' or 'away'.");
        }

        await publisher.PublishAsync(
            _stream!, new PresenceMessage(new PresenceUser(context.UserId, context.UserName), status), PresenceJsonContext.Default.PresenceMessage,
            context.Closing);
        return true;
    }

    private sealed record PresenceUpdate(string? Status);
}

public sealed record PresenceMessage(PresenceUser User, string Status)
{
    [JsonPropertyOrder(-1)]
    public string Type => "presence";
}

public sealed record PresenceUser(Guid Id, string Username);

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(PresenceMessage))]
internal sealed partial class PresenceJsonContext : JsonSerializerContext;

using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace SignalRPeer;

/// <summary>
/// Every authenticated user receives their notifications (<c>Clients.User</c>); a connection opened with
/// <c>?orgId=</c> joins that organization's group when its user is a member, as the subject checks at its
/// handshake. <see cref="Echo"/> answers the echo scenario's round trips; <see cref="Publish"/> is the
/// subject's <c>publish</c> message: an event from a member to the organization of its connection.
/// </summary>
[Authorize]
public sealed class RealtimeHub(OrganizationMembers members, EventIds ids, TimeProvider time) : Hub
{
    private const string OrganizationKey = "orgId";

    public const string Path = "/hubs/realtime";

    public static string GroupFor(Guid organizationId) => "org:" + organizationId.ToString("N");

    public override async Task OnConnectedAsync()
    {
        var requested = Context.GetHttpContext()?.Request.Query["orgId"].ToString();
        if (!string.IsNullOrEmpty(requested))
        {
            if (!Guid.TryParse(requested, out var organizationId) || !members.IsMember(organizationId, Context.UserIdentifier))
            {
                Context.Abort();
                return;
            }

            Context.Items[OrganizationKey] = organizationId;
            await Groups.AddToGroupAsync(Context.ConnectionId, GroupFor(organizationId));
        }

        await base.OnConnectedAsync();
    }

    public long Echo(long id) => id;

    public Task Publish(string type, JsonElement data)
    {
        if (Context.Items[OrganizationKey] is not Guid organizationId)
        {
            throw new HubException("Connect with ?orgId= to publish.");
        }

        var user = Context.User!;
        var message = new OrganizationEventMessage(
            ids.Next(), organizationId, type, data,
            new EventSender(Guid.Parse(Context.UserIdentifier!), user.FindFirstValue("name") ?? ""), time.GetUtcNow());
        return Clients.Group(GroupFor(organizationId)).SendAsync("orgEvent", message);
    }
}

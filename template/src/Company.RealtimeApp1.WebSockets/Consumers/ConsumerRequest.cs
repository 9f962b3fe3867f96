using System.Security.Claims;
using Microsoft.AspNetCore.Routing;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>What a consumer's access rule decides on: who asks, for which route.</summary>
public sealed class ConsumerRequest(ClaimsPrincipal user, RouteValueDictionary routeValues, IServiceProvider services, CancellationToken aborted)
{
    public ClaimsPrincipal User { get; } = user;

    /// <summary>The user's id (the token's subject).</summary>
    public Guid UserId { get; } = ConnectionIdentity.From(user).UserId;

    public RouteValueDictionary RouteValues { get; } = routeValues;

    public IServiceProvider Services { get; } = services;

    /// <summary>Cancelled when the request (or the socket) goes away.</summary>
    public CancellationToken Aborted { get; } = aborted;

    /// <summary>The route value <paramref name="name"/> as a <see cref="Guid"/>, or null when it is missing or not one.</summary>
    public Guid? RouteGuid(string name) =>
        RouteValues.TryGetValue(name, out var value) && Guid.TryParse(value as string, out var id) && id != Guid.Empty ? id : null;
}

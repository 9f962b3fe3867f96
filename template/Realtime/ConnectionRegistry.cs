using System.Collections.Concurrent;
using System.Net.WebSockets;

namespace Company.RealtimeApp1.Realtime;

/// <summary>Every open connection on this instance, for closing them by user or all at once.</summary>
public sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<string, RealtimeConnection> _connections = new(StringComparer.Ordinal);

    public int Count => _connections.Count;

    internal void Add(RealtimeConnection connection) => _connections[connection.Id] = connection;

    internal void Remove(RealtimeConnection connection) => _connections.TryRemove(connection.Id, out _);

    /// <summary>The user's open connections on this instance.</summary>
    public IEnumerable<RealtimeConnection> ForUser(Guid userId) =>
        _connections.Values.Where(c => c.Identity.UserId == userId);

    /// <summary>Closes every connection on this instance, for example when the application stops.</summary>
    public void CloseAll(WebSocketCloseStatus status, string reason)
    {
        foreach (var connection in _connections.Values)
        {
            connection.Close(status, reason);
        }
    }
}

using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net.WebSockets;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>Every open connection on this instance, by user, for caps, expiry, revocation and shutdown.</summary>
public sealed class ConnectionRegistry
{
    private readonly ConcurrentDictionary<string, RealtimeConnection> _connections = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Guid, ImmutableArray<RealtimeConnection>> _byUser = new();
    private readonly Lock _gate = new();

    public int Count => _connections.Count;

    /// <summary>Every open connection; a snapshot safe to enumerate while connections come and go.</summary>
    public IEnumerable<RealtimeConnection> All => _connections.Values;

    /// <summary>Adds the connection unless its user already has <paramref name="maxPerUser"/> open.</summary>
    internal bool TryAdd(RealtimeConnection connection, int maxPerUser)
    {
        lock (_gate)
        {
            var userId = connection.Identity.UserId;
            var ofUser = _byUser.GetValueOrDefault(userId, []);
            if (ofUser.Length >= maxPerUser)
            {
                return false;
            }

            _byUser[userId] = ofUser.Add(connection);
            _connections[connection.Id] = connection;
            return true;
        }
    }

    internal void Remove(RealtimeConnection connection)
    {
        lock (_gate)
        {
            if (!_connections.TryRemove(connection.Id, out _))
            {
                return;
            }

            var userId = connection.Identity.UserId;
            var ofUser = _byUser.GetValueOrDefault(userId, []).Remove(connection);
            if (ofUser.IsEmpty)
            {
                _byUser.TryRemove(userId, out _);
            }
            else
            {
                _byUser[userId] = ofUser;
            }
        }
    }

    internal bool Contains(string connectionId) => _connections.ContainsKey(connectionId);

    /// <summary>The user's open connections on this instance.</summary>
    public ImmutableArray<RealtimeConnection> ForUser(Guid userId) => _byUser.GetValueOrDefault(userId, []);

    /// <summary>Closes every connection on this instance, for example when the application stops.</summary>
    public void CloseAll(WebSocketCloseStatus status, string reason)
    {
        foreach (var connection in _connections.Values)
        {
            connection.Close(status, reason);
        }
    }
}

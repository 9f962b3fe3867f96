using System.Text.Json;
using System.Text.Json.Serialization;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// Hears every revocation that reaches this instance, before its sockets are closed: the app subscribes
/// to forget what it remembered of the user (a cache of access checks, say).
/// </summary>
public interface IRevocationListener
{
    void OnRevoked(Revocation revocation);
}

namespace Company.RealtimeApp1.WebSockets;

/// <summary>A user online on a stream: <c>{"id","username"}</c>.</summary>
public sealed record PresenceUser(Guid Id, string Username);

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// The consumer joins a stream with presence (<see cref="ConsumerContext.JoinAsync"/> with <c>presence: true</c>):
/// its sockets receive <c>presence</c>, <c>presence.joined</c> and <c>presence.left</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class SendsPresenceAttribute : Attribute;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// The consumer handles <c>{"type":<paramref name="type"/>, …}</c> from its clients, read as <typeparamref name="TMessage"/>
/// (<see cref="IncomingMessage.Read{T}"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class ReceivesAttribute<TMessage>(string type) : ConsumerMessageAttribute(type, typeof(TMessage))
{
    internal override bool FromServer => false;
}

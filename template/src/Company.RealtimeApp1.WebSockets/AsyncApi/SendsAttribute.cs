namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// The consumer's sockets receive <c>{"type":<paramref name="type"/>, …}</c>, serialized from <typeparamref name="TMessage"/>
/// (a type whose own <c>Type</c> member, if any, is the same name).
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true, Inherited = false)]
public sealed class SendsAttribute<TMessage>(string type) : ConsumerMessageAttribute(type, typeof(TMessage))
{
    /// <summary>
    /// <typeparamref name="TMessage"/> is the content of a stored message (<see cref="StoredFrame"/>): the frame is
    /// <c>{"type","id",…content…,"createdAt"}</c>.
    /// </summary>
    public bool Stored { get; set; }

    internal override bool FromServer => true;

    internal override bool IsStored => Stored;
}

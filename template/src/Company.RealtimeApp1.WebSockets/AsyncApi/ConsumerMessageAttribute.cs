namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// A message of a consumer's own, declared on the consumer class for the AsyncAPI document (<c>MapAsyncApi</c>):
/// its <c>type</c> and the C# type it is written from or read as, whose JSON Schema the document exports with the
/// web defaults the wire uses. The messages every endpoint has (<c>welcome</c>, <c>ping</c>, ...) need no declaration.
/// </summary>
public abstract class ConsumerMessageAttribute(string type, Type message) : Attribute
{
    /// <summary>The message's <c>type</c> member.</summary>
    public string Type { get; } = type;

    /// <summary>The C# type the message is serialized from (or, sent by a client, read as).</summary>
    public Type Message { get; } = message;

    /// <summary>One line on what the message is for.</summary>
    public string? Summary { get; set; }

    /// <summary>Whether the server sends it (else a client does).</summary>
    internal abstract bool FromServer { get; }

    /// <summary>Whether <see cref="Message"/> is the content of a stored message, which its frame wraps in <c>id</c> and <c>createdAt</c>.</summary>
    internal virtual bool IsStored => false;
}

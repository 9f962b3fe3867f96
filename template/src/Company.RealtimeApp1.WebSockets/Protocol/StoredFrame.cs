using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// The frame of a stored message, serialized before it has an id and a time: <c>{"type","id",…content…,"createdAt"}</c>.
/// The content is serialized once; <see cref="WidestLength"/> is what the frame measures with the widest id and
/// time (so a check against it holds for every id the store may assign), and <see cref="ToMessage"/> writes
/// the real frame around the same content bytes.
/// </summary>
public sealed class StoredFrame
{
    private static readonly byte[] CreatedAtMember = ",\"createdAt\":"u8.ToArray();
    private static readonly int WidestIdLength = long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
    private static readonly int WidestTimeLength = Time(DateTimeOffset.MaxValue).Length;

    // {"type":"<type>","id":
    private readonly byte[] _head;

    // The content's members with a leading comma (or nothing for an empty object).
    private readonly ReadOnlyMemory<byte> _members;

    private StoredFrame(byte[] head, ReadOnlyMemory<byte> members)
    {
        _head = head;
        _members = members;
    }

    /// <summary>The largest the frame can be, whatever id and time it is stored with.</summary>
    public int WidestLength => Length(WidestIdLength, WidestTimeLength);

    /// <summary>The message's <c>type</c>.</summary>
    public required string Type { get; init; }

    /// <summary>The content as the JSON object it was serialized to: what a store keeps, and gives back to <see cref="FromContent"/>.</summary>
    public string Content => _members.IsEmpty ? "{}" : "{" + System.Text.Encoding.UTF8.GetString(_members.Span[1..]) + "}";

    /// <summary>
    /// A frame of type <paramref name="type"/> whose other members, after <c>id</c> and before <c>createdAt</c>, are
    /// those of <paramref name="content"/>, which must serialize to a JSON object.
    /// </summary>
    public static StoredFrame Create<T>(string type, T content, JsonTypeInfo<T> contentType)
    {
        ArgumentNullException.ThrowIfNull(contentType);
        return FromJson(type, JsonSerializer.SerializeToUtf8Bytes(content, contentType));
    }

    /// <summary>The frame of a stored message, from its type and the <see cref="Content"/> it was stored with.</summary>
    public static StoredFrame FromContent(string type, string content)
    {
        ArgumentNullException.ThrowIfNull(content);
        return FromJson(type, System.Text.Encoding.UTF8.GetBytes(content));
    }

    private static StoredFrame FromJson(string type, byte[] json)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        if (json.Length < 2 || json[0] != (byte)'{' || json[^1] != (byte)'}')
        {
            throw new ArgumentException($"The content of a '{type}' message must be a JSON object.", nameof(json));
        }

        var head = new ArrayBufferWriter<byte>();
        head.Write("{\"type\":"u8);
        head.Write(JsonString(type));
        head.Write(",\"id\":"u8);
        // "{}" has no members; "{...}" becomes ",..." by reusing its opening brace's place for the comma.
        json[0] = (byte)',';
        return new StoredFrame(head.WrittenSpan.ToArray(), json.Length == 2 ? ReadOnlyMemory<byte>.Empty : json.AsMemory(0, json.Length - 1)) { Type = type };
    }

    /// <summary>The frame as <paramref name="id"/> on <paramref name="stream"/>, created at <paramref name="createdAt"/>.</summary>
    public StreamMessage ToMessage(StreamId stream, long id, DateTimeOffset createdAt)
    {
        Span<byte> idText = stackalloc byte[20];
        id.TryFormat(idText, out var idLength, provider: System.Globalization.CultureInfo.InvariantCulture);
        var time = Time(createdAt);
        var frame = new byte[Length(idLength, time.Length)];
        var rest = frame.AsSpan();
        Append(ref rest, _head);
        Append(ref rest, idText[..idLength]);
        Append(ref rest, _members.Span);
        Append(ref rest, CreatedAtMember);
        Append(ref rest, time);
        rest[0] = (byte)'}';
        return new StreamMessage(stream, id, frame);
    }

    private int Length(int idLength, int timeLength) =>
        _head.Length + idLength + _members.Length + CreatedAtMember.Length + timeLength + 1;

    private static void Append(ref Span<byte> destination, scoped ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(destination);
        destination = destination[bytes.Length..];
    }

    /// <summary>The timestamp exactly as the serializer writes a <see cref="DateTimeOffset"/>, quotes included.</summary>
    private static byte[] Time(DateTimeOffset value)
    {
        var buffer = new ArrayBufferWriter<byte>(40);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStringValue(value);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] JsonString(string value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStringValue(value);
        }

        return buffer.WrittenSpan.ToArray();
    }
}

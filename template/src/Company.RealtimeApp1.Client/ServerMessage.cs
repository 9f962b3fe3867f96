using System.Text.Json;

namespace Company.RealtimeApp1.Client;

/// <summary>
/// A message from the server: a JSON object whose <c>type</c> says what it is. The protocol's own (<c>welcome</c>,
/// <c>pong</c>, <c>auth.expiring</c>, <c>auth.refreshed</c>, <c>resumed</c>, <c>error</c>, <c>auth</c>) and each
/// consumer's come alike; <see cref="Read{T}"/> gives one as the record an app declares for it.
/// </summary>
public sealed class ServerMessage
{
    private ServerMessage(string type, long? id, JsonElement json)
    {
        Type = type;
        Id = id;
        Json = json;
    }

    /// <summary>The message's <c>type</c>, e.g. <c>welcome</c>.</summary>
    public string Type { get; }

    /// <summary>
    /// A stored message's position in its stream (its <c>id</c>; the server writes every stored message as
    /// <c>{"type","id",…,"createdAt"}</c>); null for a message that is not stored.
    /// </summary>
    public long? Id { get; }

    /// <summary>The whole message.</summary>
    public JsonElement Json { get; }

    /// <summary>The message as a <typeparamref name="T"/>, its members matched in camelCase (<see cref="JsonSerializerOptions.Web"/>).</summary>
    public T Read<T>() => Json.Deserialize<T>(JsonSerializerOptions.Web)
        ?? throw new JsonException($"A '{Type}' message is not a {typeof(T).Name}.");

    /// <inheritdoc />
    public override string ToString() => Json.GetRawText();

    /// <summary>The message in a text frame, or null when the frame is not a JSON object with a string <c>type</c>.</summary>
    internal static ServerMessage? Parse(ReadOnlySpan<byte> frame)
    {
        JsonElement json;
        try
        {
            json = JsonSerializer.Deserialize<JsonElement>(frame);
        }
        catch (JsonException)
        {
            return null;
        }

        if (json.ValueKind != JsonValueKind.Object
            || !json.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
        {
            return null;
        }

        long? id = json.TryGetProperty("id", out var idMember) && idMember.ValueKind == JsonValueKind.Number
            && idMember.TryGetInt64(out var position) && json.TryGetProperty("createdAt", out _)
            ? position
            : null;
        return new ServerMessage(type.GetString()!, id, json);
    }
}

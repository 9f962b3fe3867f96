using System.Text.Json;
using Microsoft.AspNetCore.Routing;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>A client message: its <c>type</c> and its JSON body.</summary>
public sealed class IncomingMessage(string type, JsonElement body)
{
    public string Type { get; } = type;

    /// <summary>The whole message object, <c>type</c> included.</summary>
    public JsonElement Body { get; } = body;

    /// <summary>Reads the body as <typeparamref name="T"/> (web defaults: camelCase), or throws <see cref="InvalidMessageException"/>.</summary>
    public T Read<T>()
    {
        try
        {
            return Body.Deserialize<T>(JsonSerializerOptions.Web)
                ?? throw new InvalidMessageException($"A '{Type}' message must be a JSON object.");
        }
        catch (JsonException exception)
        {
            throw new InvalidMessageException($"The '{Type}' message does not have the expected shape: {exception.Message}");
        }
    }
}

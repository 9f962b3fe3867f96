using System.Text.Json;
using System.Text.Json.Serialization;

namespace Company.RealtimeApp1.WebSockets;

// The messages the realtime layer itself sends. Each is a JSON text frame whose first member is "type".

public sealed record WelcomeMessage(WelcomeUser User, string ConnectionId, DateTimeOffset ExpiresAt)
{
    [JsonPropertyOrder(-1)]
    public string Type => "welcome";
}

public sealed record WelcomeUser(string Id, string Username);

public sealed record PongMessage([property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Id)
{
    [JsonPropertyOrder(-1)]
    public string Type => "pong";
}

public sealed record ErrorMessage(string Code, string Detail)
{
    [JsonPropertyOrder(-1)]
    public string Type => "error";
}

public sealed record AuthFailureMessage(int Status, string Error, string Detail)
{
    [JsonPropertyOrder(-1)]
    public string Type => "auth";
}

public sealed record ResumedMessage(bool Recovered)
{
    [JsonPropertyOrder(-1)]
    public string Type => "resumed";
}

public sealed record AuthExpiringMessage(DateTimeOffset ExpiresAt)
{
    [JsonPropertyOrder(-1)]
    public string Type => "auth.expiring";
}

public sealed record AuthRefreshedMessage(DateTimeOffset ExpiresAt)
{
    [JsonPropertyOrder(-1)]
    public string Type => "auth.refreshed";
}

/// <summary>The codes of <see cref="ErrorMessage"/>; the socket stays open after each.</summary>
public static class ErrorCodes
{
    public const string InvalidJson = "invalid_json";
    public const string UnknownType = "unknown_type";
    public const string InvalidMessage = "invalid_message";
    public const string InvalidRefresh = "invalid_refresh";
}

/// <summary>
/// The application-defined close codes (RFC 6455 §7.4.2 reserves 4000–4999 for applications), and the
/// registered ones <see cref="System.Net.WebSockets.WebSocketCloseStatus"/> does not name.
/// </summary>
public static class CloseCodes
{
    /// <summary>1012, Service Restart (IANA registry): reconnect, here with <c>since</c>, to get what was missed.</summary>
    public const int ServiceRestart = 1012;

    public const int Unauthorized = 4001;
    public const int Forbidden = 4003;
    public const int TooManyRequests = 4029;

    /// <summary>RFC 6455's "Try Again Later" (IANA registry): the server could not serve the handshake for now.</summary>
    public const int TryAgainLater = 1013;
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(WelcomeMessage))]
[JsonSerializable(typeof(PongMessage))]
[JsonSerializable(typeof(ErrorMessage))]
[JsonSerializable(typeof(AuthFailureMessage))]
[JsonSerializable(typeof(ResumedMessage))]
[JsonSerializable(typeof(AuthExpiringMessage))]
[JsonSerializable(typeof(AuthRefreshedMessage))]
internal sealed partial class RealtimeJsonContext : JsonSerializerContext;

/// <summary>The standard envelope of a message that is not stored: <c>{"type","data","sender":{"id","username"}}</c>.</summary>
public sealed record Envelope<T>(string Type, T Data, MessageSender Sender);

/// <summary>Who sent a message: <c>{"id","username"}</c>.</summary>
public sealed record MessageSender(Guid Id, string Username);

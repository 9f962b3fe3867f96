using System.Text.Json;
using System.Text.Json.Serialization;

namespace Company.RealtimeApp1.WebSockets;

// The messages every endpoint answers itself (ControlMessages reads them member by member, to name what is
// wrong): their shapes, for the AsyncAPI document.

/// <summary><c>{"type":"ping","id"}</c>: answered with <c>pong</c>, echoing any <c>id</c>.</summary>
internal sealed record PingMessage([property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] JsonElement? Id);

/// <summary><c>{"type":"auth.refresh","access_token"}</c>: a new access token of the same user.</summary>
internal sealed record AuthRefreshRequest([property: JsonPropertyName(ControlMessages.AccessTokenMember)] string AccessToken);

/// <summary><c>{"type":"resume","since"}</c>: the last message id the client saw.</summary>
internal sealed record ResumeRequest(long Since);

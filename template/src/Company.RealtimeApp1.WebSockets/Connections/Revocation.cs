using System.Text.Json;
using System.Text.Json.Serialization;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// A withdrawn authority: the user's sockets (on one stream, or all of them) must close, but for those whose
/// principal holds <see cref="StillValid"/>, the credential that replaced the withdrawn ones.
/// </summary>
public sealed record Revocation(Guid UserId, StreamId? Stream, int CloseCode, string Reason, ValidCredential? StillValid = null);

/// <summary>A claim only the credentials issued after a revocation carry (a digest of the user's new security stamp, say).</summary>
public sealed record ValidCredential(string ClaimType, string ClaimValue);

[JsonSerializable(typeof(Revocation))]
internal sealed partial class RevocationJsonContext : JsonSerializerContext;

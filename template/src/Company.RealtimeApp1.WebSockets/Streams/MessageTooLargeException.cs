using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>Thrown instead of publishing (or storing) a message whose frame could exceed <c>WebSockets:MaxMessageBytes</c>.</summary>
public sealed class MessageTooLargeException(string detail) : Exception(detail);

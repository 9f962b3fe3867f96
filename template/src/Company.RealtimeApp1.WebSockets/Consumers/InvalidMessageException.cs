using System.Text.Json;
using Microsoft.AspNetCore.Routing;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>Thrown by a consumer for a message of a known type whose body is wrong; the client gets <c>invalid_message</c>.</summary>
public sealed class InvalidMessageException(string detail) : Exception(detail);

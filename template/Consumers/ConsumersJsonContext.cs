using System.Text.Json;
using System.Text.Json.Serialization;

namespace Company.RealtimeApp1.Consumers;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(NotificationMessage))]
[JsonSerializable(typeof(OrganizationEventMessage))]
internal sealed partial class ConsumersJsonContext : JsonSerializerContext;

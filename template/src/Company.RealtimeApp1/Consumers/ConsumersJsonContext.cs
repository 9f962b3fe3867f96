using System.Text.Json;
using System.Text.Json.Serialization;

namespace Company.RealtimeApp1.Consumers;

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(NotificationContent))]
[JsonSerializable(typeof(OrganizationEventContent))]
internal sealed partial class ConsumersJsonContext : JsonSerializerContext;

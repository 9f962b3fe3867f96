using System.Text.Json;

namespace Company.RealtimeApp1.Data;

/// <summary>How stored messages keep their free-form JSON and their times.</summary>
public static class StoredMessage
{
    /// <summary><paramref name="data"/>, unless it is absent or JSON <c>null</c>: both are stored as no data.</summary>
    public static JsonElement? Data(JsonElement? data) =>
        data is { ValueKind: not JsonValueKind.Undefined and not JsonValueKind.Null } ? data : null;

    /// <summary>A stored time as the UTC instant it is (the database keeps no kind).</summary>
    public static DateTimeOffset Utc(DateTime stored) => new(DateTime.SpecifyKind(stored, DateTimeKind.Utc));
}

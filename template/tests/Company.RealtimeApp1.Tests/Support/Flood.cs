using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Company.RealtimeApp1.Tests;

/// <summary>A large message to publish until a client that does not read falls behind.</summary>
internal sealed record Flood(string Type, string Pad)
{
    /// <summary>A message of <paramref name="padBytes"/> bytes of padding.</summary>
    public static Flood OfSize(int padBytes) => new("flood", new string('x', padBytes));

    public static readonly JsonTypeInfo<Flood> TypeInfo = (JsonTypeInfo<Flood>)JsonSerializerOptions.Web.GetTypeInfo(typeof(Flood));
}

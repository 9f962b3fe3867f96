using System.Text.Json.Serialization;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// A stream, made once where the app decides what a socket joins: its <see cref="Kind"/> (<c>org</c>,
/// <c>docs</c>), its <see cref="Key"/> (whose it is), and the stream it lives under, its
/// <see cref="Scope"/>, if any: a document's stream under its organization's, so that losing the organization
/// loses the document too. The bus, Redis and the store see <see cref="Name"/>, derived from it and never
/// read back: code that needs to know what a stream is for keeps the value, not the name.
/// </summary>
public sealed record StreamId
{
    private const char Separator = ':';

    [JsonConstructor]
    public StreamId(string kind, string key, StreamId? scope = null)
    {
        ThrowIfNotAPart(kind, nameof(kind), allowEmpty: false);
        ThrowIfNotAPart(key, nameof(key), allowEmpty: true);
        Kind = kind;
        Key = key;
        Scope = scope;
        var own = key.Length == 0 ? kind : kind + Separator + key;
        Name = scope is null ? own : scope.Name + Separator + own;
    }

    /// <summary>What the stream is for, the same for every stream of its consumer (<c>org</c>).</summary>
    public string Kind { get; }

    /// <summary>Whose stream of its kind it is (an organization's id), or empty for the only one under its scope.</summary>
    public string Key { get; }

    /// <summary>The stream this one lives under: whoever loses that one (a revocation of it) loses this one too.</summary>
    public StreamId? Scope { get; }

    /// <summary>
    /// The stream's name on the bus, in Redis and in the store: <c>kind:key</c>, after its scope's name
    /// (<c>org:…:docs:…</c>). Unique per stream, since neither a kind nor a key holds the separator.
    /// </summary>
    [JsonIgnore]
    public string Name { get; }

    /// <summary>A stream of <paramref name="kind"/> keyed by <paramref name="id"/> (32 hex digits).</summary>
    public static StreamId For(string kind, Guid id, StreamId? scope = null) => new(kind, id.ToString("N"), scope);

    /// <summary>Whether this stream is <paramref name="scope"/> or lives under it, however deep.</summary>
    public bool IsWithin(StreamId scope)
    {
        ArgumentNullException.ThrowIfNull(scope);
        for (var stream = this; stream is not null; stream = stream.Scope)
        {
            if (stream.Equals(scope))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The nearest stream of <paramref name="kind"/> among this one and those it lives under.</summary>
    public StreamId? Within(string kind)
    {
        for (var stream = this; stream is not null; stream = stream.Scope)
        {
            if (stream.Kind == kind)
            {
                return stream;
            }
        }

        return null;
    }

    // Two streams are the same stream when their names are: the name holds the kind, key and scope.
    public bool Equals(StreamId? other) => other is not null && string.Equals(Name, other.Name, StringComparison.Ordinal);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Name);

    public override string ToString() => Name;

    private static void ThrowIfNotAPart(string part, string name, bool allowEmpty)
    {
        ArgumentNullException.ThrowIfNull(part, name);
        if ((!allowEmpty && part.Length == 0) || part.Contains(Separator, StringComparison.Ordinal))
        {
            throw new ArgumentException($"A stream's {name} must be {(allowEmpty ? "" : "non-empty and ")}without '{Separator}'.", name);
        }
    }
}

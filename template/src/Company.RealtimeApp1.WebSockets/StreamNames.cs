namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// How stream names nest: <c>org:1:doc:2</c> is a stream under <c>org:1</c>, and a revocation of a stream
/// reaches every stream under it. Apps give their streams typed names built from these.
/// </summary>
public static class StreamNames
{
    public const char Separator = ':';

    /// <summary><paramref name="prefix"/> followed by <paramref name="id"/> (32 hex digits).</summary>
    public static string WithId(string prefix, Guid id) => prefix + id.ToString("N");

    /// <summary>The stream <paramref name="child"/> under <paramref name="parent"/>.</summary>
    public static string Under(string parent, string child)
    {
        ArgumentException.ThrowIfNullOrEmpty(child);
        return parent + Separator + child;
    }

    /// <summary>Whether <paramref name="stream"/> is <paramref name="parent"/> or a stream under it.</summary>
    public static bool IsWithin(string stream, string parent) =>
        stream.StartsWith(parent, StringComparison.Ordinal)
        && (stream.Length == parent.Length || stream[parent.Length] == Separator);

    /// <summary>
    /// The id of a name made by <see cref="WithId"/>; with <paramref name="orUnder"/>, also of any stream under
    /// one (<c>&lt;prefix&gt;&lt;id&gt;:…</c>).
    /// </summary>
    public static bool TryReadId(string stream, string prefix, bool orUnder, out Guid id)
    {
        id = default;
        var rest = stream.AsSpan();
        if (!rest.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        rest = rest[prefix.Length..];
        var end = rest.IndexOf(Separator);
        if (end >= 0 && !orUnder)
        {
            return false;
        }

        return Guid.TryParseExact(end < 0 ? rest : rest[..end], "N", out id);
    }
}

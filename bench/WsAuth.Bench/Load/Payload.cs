using System.Buffers.Text;
using System.Globalization;

namespace WsAuth.Bench.Load;

/// <summary>
/// What every published message carries, the same bytes for every server: <c>{"ts":T,"pad":"x…"}</c>, where
/// <c>ts</c> is the generator's monotonic clock when the publish left (publisher and receivers share the
/// process, so no clock sync is needed) and the pad brings the body to a realistic size.
/// </summary>
internal static class Payload
{
    public const int PadLength = 100;

    public static readonly string Pad = new('x', PadLength);

    private static ReadOnlySpan<byte> TimestampKey => "\"ts\":"u8;

    public static string Data(long timestamp) =>
        string.Create(CultureInfo.InvariantCulture, $$"""{"ts":{{timestamp}},"pad":"{{Pad}}"}""");

    public static bool TryReadTimestamp(ReadOnlySpan<byte> record, out long timestamp) => TryReadNumber(record, TimestampKey, out timestamp);

    /// <summary>The number after the first <paramref name="key"/> (a quoted name and its colon) in the record.</summary>
    public static bool TryReadNumber(ReadOnlySpan<byte> record, ReadOnlySpan<byte> key, out long value)
    {
        var at = record.IndexOf(key);
        if (at < 0)
        {
            value = 0;
            return false;
        }

        return Utf8Parser.TryParse(record[(at + key.Length)..], out value, out _);
    }

    public static string Now() => DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
}

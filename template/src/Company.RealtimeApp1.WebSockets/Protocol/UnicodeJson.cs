using System.Buffers;
using System.Text.Json;
using System.Text.Unicode;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// JSON that can be read as text: one value (RFC 8259) with nothing after it but whitespace, whose every string
/// and member name is Unicode text: valid UTF-8, and no escape of a lone surrogate (<c>"\ud800"</c>), which the
/// grammar allows but no string can hold (I-JSON, RFC 7493 §2.1). <see cref="JsonDocument"/> and
/// <see cref="Utf8JsonReader"/> accept both and fail only when the string is read, which would be deep inside
/// a handler, or when the value is written out again; checking once, where the message arrives, answers it as
/// the client's error.
/// </summary>
public static class UnicodeJson
{
    public static bool IsValid(ReadOnlyMemory<byte> utf8) => IsValid(new ReadOnlySequence<byte>(utf8));

    public static bool IsValid(ReadOnlySequence<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8);
        try
        {
            while (reader.Read())
            {
                if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && !IsUnicodeText(ref reader))
                {
                    return false;
                }
            }

            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static bool IsUnicodeText(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.HasValueSequence ? Utf8.IsValid(reader.ValueSequence.ToArray()) : Utf8.IsValid(reader.ValueSpan);
        }

        // Unescaping is what finds a lone surrogate; it checks the UTF-8 around the escapes too.
        try
        {
            reader.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}

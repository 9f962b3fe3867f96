using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Company.RealtimeApp1.Tests;

/// <summary>An HTTP/1.1 response read off the wire by <see cref="RawHttp"/>: its status, headers and (de-chunked) body.</summary>
public sealed record RawHttpResponse(HttpStatusCode Status, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public string? ContentType => Headers.TryGetValue("Content-Type", out var value) ? value.Split(';')[0].Trim() : null;
}

/// <summary>
/// HTTP/1.1 over a bare TCP socket, for what <see cref="HttpClient"/> refuses to send: a request line with a
/// raw non-ASCII byte or a space in its target, a chunked body whose framing is broken.
/// </summary>
public static class RawHttp
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Writes <paramref name="request"/> exactly as given and reads one response; the request should say
    /// <c>Connection: close</c> (or be one the server closes on), since the response is read to the end of the stream.
    /// </summary>
    public static async Task<RawHttpResponse> SendAsync(Uri server, byte[] request)
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(Timeout);
        await client.ConnectAsync(server.Host, server.Port, timeout.Token);
        var stream = client.GetStream();
        await stream.WriteAsync(request, timeout.Token);

        using var received = new MemoryStream();
        try
        {
            await stream.CopyToAsync(received, timeout.Token);
        }
        catch (IOException)
        {
            // A reset after the response (the server dropping a connection whose request it refused) ends the read too.
        }

        return Parse(received.ToArray());
    }

    /// <summary>
    /// The bytes of a request: <paramref name="head"/> (lines without their CRLF) in UTF-8, so that an <c>é</c> is
    /// the two raw bytes a browser never sends unescaped, and then <paramref name="body"/>.
    /// </summary>
    public static byte[] Request(IEnumerable<string> head, byte[]? body = null) =>
        [.. Encoding.UTF8.GetBytes(string.Join("\r\n", head) + "\r\n\r\n"), .. body ?? []];

    private static RawHttpResponse Parse(byte[] response)
    {
        var text = Encoding.Latin1.GetString(response);
        var headEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        Assert.True(headEnd > 0, $"The server sent no complete response head ({response.Length} bytes).");
        var lines = text[..headEnd].Split("\r\n");
        var status = (HttpStatusCode)int.Parse(lines[0].Split(' ')[1]);
        var headers = lines.Skip(1)
            .Select(line => line.Split(':', 2))
            .ToDictionary(pair => pair[0], pair => pair[1].Trim(), StringComparer.OrdinalIgnoreCase);
        var body = response.AsSpan(headEnd + 4);
        var bytes = headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase)
            ? Dechunk(body)
            : body.ToArray();
        return new RawHttpResponse(status, headers, Encoding.UTF8.GetString(bytes));
    }

    private static byte[] Dechunk(ReadOnlySpan<byte> chunked)
    {
        var body = new List<byte>();
        while (true)
        {
            var lineEnd = chunked.IndexOf("\r\n"u8);
            var size = Convert.ToInt32(Encoding.ASCII.GetString(chunked[..lineEnd]).Split(';')[0], 16);
            if (size == 0)
            {
                return [.. body];
            }

            body.AddRange(chunked.Slice(lineEnd + 2, size));
            chunked = chunked[(lineEnd + 2 + size + 2)..];
        }
    }
}

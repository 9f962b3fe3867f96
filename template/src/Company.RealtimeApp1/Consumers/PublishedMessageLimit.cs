using System.IO.Pipelines;
using System.Text.Json;
using Company.RealtimeApp1.WebSockets;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using HttpJsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;

namespace Company.RealtimeApp1.Consumers;

/// <summary>The body of a <c>413</c>: <c>{"error":"message_too_large","detail"}</c>.</summary>
public sealed record MessageTooLargeError(string Error, string Detail)
{
    public MessageTooLargeError(string detail) : this("message_too_large", detail)
    {
    }
}

/// <summary>
/// The HTTP side of the size rule of published messages: request bodies of the publishing endpoints are
/// read up to <c>WebSockets:MaxMessageBytes</c>, and a <see cref="MessageTooLargeException"/> (thrown by
/// the stored-stream path, <see cref="Data.StreamStore.AppendAsync"/>) is answered with a <c>413</c>.
/// </summary>
public sealed class PublishedMessageLimit(IOptionsMonitor<RealtimeOptions> options, IOptions<HttpJsonOptions> json)
{
    public int MaxBytes => options.CurrentValue.MaxMessageBytes;

    /// <summary>
    /// The largest request body these endpoints read. Every byte of a compact request reappears in its
    /// frame, which adds an envelope (type, id, timestamp), so a body over <see cref="MaxBytes"/> could
    /// only be acceptable through padding the frame drops (whitespace, needless escapes); refusing it
    /// costs an honest client nothing and bounds what the server buffers.
    /// </summary>
    public int MaxRequestBytes => MaxBytes;

    /// <summary>The <c>413</c> answer to <paramref name="exception"/>.</summary>
    internal static JsonHttpResult<MessageTooLargeError> TooLarge(MessageTooLargeException exception) =>
        TooLarge(exception.Message);

    /// <summary>
    /// Reads a JSON request body of at most <see cref="MaxRequestBytes"/>, whether or not it has a
    /// Content-Length, without buffering more than that. Bad input is answered here, never thrown, so no
    /// environment turns it into a 500.
    /// </summary>
    internal async Task<RequestBody<T>> ReadJsonAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        if (!request.HasJsonContentType())
        {
            return new(null, null, TypedResults.Problem(
                statusCode: StatusCodes.Status415UnsupportedMediaType,
                detail: "The body must be JSON (Content-Type: application/json)."));
        }

        var max = MaxRequestBytes;
        var tooLarge = TooLarge($"A request body may be at most {max} bytes ({RealtimeOptions.SectionName}:{nameof(RealtimeOptions.MaxMessageBytes)}).");

        if (request.ContentLength > max)
        {
            return new(null, tooLarge, null);
        }

        // Reading stops past the limit; the server then discards the rest of the body (up to its own
        // MaxRequestBodySize) rather than break the connection, so that the client reads the answer.
        var reader = request.BodyReader;
        while (true)
        {
            ReadResult read;
            try
            {
                read = await reader.ReadAsync(cancellationToken);
            }
            catch (BadHttpRequestException exception) when (exception.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                return new(null, tooLarge, null);
            }
            catch (Exception exception) when (exception is BadHttpRequestException or IOException)
            {
                // A broken chunked framing or a body that ended early: the client's error, never a 500 (Kestrel
                // throws an IOException, not a bad request, for a chunk size that overflows). The server closes
                // the connection after this answer, since it cannot tell where the next request would start.
                return new(null, null, TypedResults.Problem(
                    statusCode: StatusCodes.Status400BadRequest,
                    detail: "The request body could not be read: its framing is broken or it ended early."));
            }

            var buffer = read.Buffer;
            if (buffer.Length > max)
            {
                reader.AdvanceTo(buffer.End);
                return new(null, tooLarge, null);
            }

            if (!read.IsCompleted)
            {
                reader.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            try
            {
                // Checked whole first: the deserializer stops after the first value, so that "{...} x" would pass,
                // and a JsonElement member takes invalid UTF-8 or a lone surrogate escape as it is, to fail
                // only when the message is written out (a 500).
                var body = new Utf8JsonReader(buffer);
                if (UnicodeJson.IsValid(buffer) && JsonSerializer.Deserialize<T>(ref body, json.Value.SerializerOptions) is { } value)
                {
                    return new(value, null, null);
                }
            }
            catch (JsonException)
            {
                // Answered below, like a null body; the parser's message would only echo the input back.
            }
            finally
            {
                reader.AdvanceTo(buffer.End);
            }

            return new(null, null, TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                detail: "The body is not the expected JSON object."));
        }
    }

    private static JsonHttpResult<MessageTooLargeError> TooLarge(string detail) =>
        TypedResults.Json(new MessageTooLargeError(detail), statusCode: StatusCodes.Status413PayloadTooLarge);
}

/// <summary>A request body read by <see cref="PublishedMessageLimit.ReadJsonAsync{T}"/>: its value, or the answer that refuses it.</summary>
internal readonly record struct RequestBody<T>(T? Value, JsonHttpResult<MessageTooLargeError>? TooLarge, ProblemHttpResult? Invalid)
    where T : class;

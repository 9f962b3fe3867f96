using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// The one way app code puts a message on a stream: serialized once per broadcast, whatever the number of
/// recipients, and held to the socket's limit (SPEC §2: a frame over <c>WebSockets:MaxMessageBytes</c>
/// would close every subscriber as a slow consumer). <see cref="PublishAsync"/> is for messages nobody
/// stores (presence, typing indicators); stored messages go through <see cref="PrepareStored"/> and the
/// app's store, which publishes them once they have an id.
/// </summary>
public sealed class StreamPublisher(IMessageBus bus, IOptionsMonitor<RealtimeOptions> options)
{
    /// <summary>The id of a message that is not stored: a resuming client never asks for it again.</summary>
    public const long NotStored = 0;

    /// <summary>The kind of a user's own stream, which every connection of the user is on.</summary>
    public const string UserStreamKind = "$user";

    /// <summary>The stream every connection of <paramref name="userId"/> is on, whatever its endpoint.</summary>
    public static StreamId UserStream(Guid userId) => StreamId.For(UserStreamKind, userId);

    /// <summary>
    /// Sends <paramref name="message"/> (whose first member should be its <c>type</c>) to every socket of
    /// <paramref name="userId"/>, on every instance, on whichever endpoint. Nothing is stored.
    /// </summary>
    public ValueTask PublishToUserAsync<T>(Guid userId, T message, CancellationToken cancellationToken = default) =>
        PublishAsync(UserStream(userId), message, cancellationToken);

    /// <summary>
    /// Serializes <paramref name="message"/> (whose first member should be its <c>type</c>) and sends it to
    /// every socket on <paramref name="stream"/>, on every instance. Nothing is stored: a client that is not
    /// connected now never sees it. Throws <see cref="MessageTooLargeException"/>, sending nothing, when the
    /// frame exceeds <c>WebSockets:MaxMessageBytes</c>.
    /// </summary>
    public ValueTask PublishAsync<T>(StreamId stream, T message, JsonTypeInfo<T> messageType, CancellationToken cancellationToken = default) =>
        PublishAsync(stream, message, messageType, exceptConnection: null, cancellationToken);

    /// <summary>As <see cref="PublishAsync{T}(StreamId, T, JsonTypeInfo{T}, CancellationToken)"/>, to every socket but <paramref name="exceptConnection"/>.</summary>
    internal ValueTask PublishAsync<T>(StreamId stream, T message, string? exceptConnection, CancellationToken cancellationToken) =>
        PublishAsync(stream, message, (JsonTypeInfo<T>)JsonSerializerOptions.Web.GetTypeInfo(typeof(T)), exceptConnection, cancellationToken);

    private ValueTask PublishAsync<T>(StreamId stream, T message, JsonTypeInfo<T> messageType, string? exceptConnection, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(messageType);
        var frame = JsonSerializer.SerializeToUtf8Bytes(message, messageType);
        var max = options.CurrentValue.MaxMessageBytes;
        if (frame.Length > max)
        {
            throw new MessageTooLargeException(
                $"The message on '{stream.Name}' is {frame.Length} bytes; a message may be at most {max} bytes ({Limit}).");
        }

        return bus.PublishAsync(new StreamMessage(stream, NotStored, frame) { ExceptConnection = exceptConnection }, cancellationToken);
    }

    /// <summary>As <see cref="PublishAsync{T}(StreamId, T, JsonTypeInfo{T}, CancellationToken)"/>, serialized with the web defaults (camelCase).</summary>
    public ValueTask PublishAsync<T>(StreamId stream, T message, CancellationToken cancellationToken = default) =>
        PublishAsync(stream, message, (JsonTypeInfo<T>)JsonSerializerOptions.Web.GetTypeInfo(typeof(T)), cancellationToken);

    /// <summary>
    /// The frame of a message about to be stored, measured with the widest id and time it could get. Throws
    /// <see cref="MessageTooLargeException"/> when it could exceed <c>WebSockets:MaxMessageBytes</c>: refuse it
    /// before it is stored, not when it is sent.
    /// </summary>
    public StoredFrame PrepareStored<T>(string type, T content, JsonTypeInfo<T> contentType)
    {
        var frame = StoredFrame.Create(type, content, contentType);
        var max = options.CurrentValue.MaxMessageBytes;
        if (frame.WidestLength > max)
        {
            throw new MessageTooLargeException(
                $"The '{type}' message would be up to {frame.WidestLength} bytes; a message may be at most {max} bytes ({Limit}).");
        }

        return frame;
    }

    private static string Limit => $"{RealtimeOptions.SectionName}:{nameof(RealtimeOptions.MaxMessageBytes)}";
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// Closes sockets whose authority was withdrawn, on every instance: a revocation travels over the
/// message bus like any stream message, and each instance tells its listeners and closes its own
/// matching connections: the user's, or those on the stream or on any stream under it.
/// </summary>
public sealed partial class ConnectionRevocations(
    IMessageBus bus,
    StreamPublisher publisher,
    StreamHub hub,
    ConnectionRegistry registry,
    IEnumerable<IRevocationListener> listeners,
    ILogger<ConnectionRevocations> logger) : IStreamSubscriber, IHostedService
{
    private readonly IRevocationListener[] _listeners = [.. listeners];
    private int _stopped;

    /// <summary>The bus stream revocations travel on; no client can join it (the streams clients join are the consumers').</summary>
    public static StreamId Stream { get; } = new("$revocations", "");

    /// <summary>Closes every socket of the user with 4001: their sign-in was revoked, or they were disabled or deleted.</summary>
    public ValueTask RevokeUserAsync(Guid userId, string reason, CancellationToken cancellationToken = default) =>
        PublishAsync(new Revocation(userId, null, CloseCodes.Unauthorized, reason), cancellationToken);

    /// <summary>
    /// Closes with 4001 every socket of the user but those whose principal holds <paramref name="stillValid"/>: the
    /// user's credentials changed, and whoever holds the new ones (the client that changed them) stays. The sockets
    /// to close are told apart by what they hold, not by when the revocation arrives: over Redis it may reach an
    /// instance after a socket was opened there with the new credentials.
    /// </summary>
    public ValueTask RevokeOtherCredentialsAsync(Guid userId, string reason, ValidCredential stillValid, CancellationToken cancellationToken = default) =>
        PublishAsync(new Revocation(userId, null, CloseCodes.Unauthorized, reason, stillValid), cancellationToken);

    /// <summary>Closes the user's sockets on <paramref name="stream"/>, or on any stream under it, with 4003: they may no longer see it.</summary>
    public ValueTask RevokeStreamAsync(Guid userId, StreamId stream, string reason, CancellationToken cancellationToken = default) =>
        PublishAsync(new Revocation(userId, stream, CloseCodes.Forbidden, reason), cancellationToken);

    void IStreamSubscriber.Offer(StreamMessage message)
    {
        var revocation = JsonSerializer.Deserialize(message.Frame.Span, RevocationJsonContext.Default.Revocation);
        if (revocation is null)
        {
            return;
        }

        foreach (var listener in _listeners)
        {
            listener.OnRevoked(revocation);
        }

        foreach (var connection in registry.ForUser(revocation.UserId))
        {
            if ((revocation.Stream is null || connection.Streams.Any(stream => stream.IsWithin(revocation.Stream)))
                && !(revocation.StillValid is { } valid && connection.User.HasClaim(valid.ClaimType, valid.ClaimValue)))
            {
                Log.Revoked(logger, connection.Id, revocation.UserId, revocation.CloseCode, revocation.Reason);
                connection.Close(revocation.CloseCode, revocation.Reason);
            }
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        hub.Add(Stream, this);
        await bus.SubscribeAsync(Stream, cancellationToken);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        // A host may be stopped twice, even at once (a test host is: dotnet/aspnetcore#40271): leave once.
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        hub.Remove(Stream, this);
        await bus.UnsubscribeAsync(Stream, cancellationToken);
    }

    private ValueTask PublishAsync(Revocation revocation, CancellationToken cancellationToken) =>
        publisher.PublishAsync(Stream, revocation, RevocationJsonContext.Default.Revocation, cancellationToken);

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Information, "Closing connection {ConnectionId} of user {UserId} with {CloseCode}: {Reason}")]
        public static partial void Revoked(ILogger logger, string connectionId, Guid userId, int closeCode, string reason);
    }
}

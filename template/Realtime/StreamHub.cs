using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Company.RealtimeApp1.Realtime;

/// <summary>
/// This instance's sockets, by stream. Delivery reads an immutable snapshot of a stream's members, so
/// fan-out takes no lock and allocates nothing per recipient; joins and leaves copy the snapshot.
/// </summary>
public sealed class StreamHub(RealtimeMetrics metrics)
{
    private readonly ConcurrentDictionary<string, ImmutableArray<IStreamSubscriber>> _streams = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();

    /// <summary>Hands <paramref name="message"/> to every local member of its stream.</summary>
    public void Deliver(StreamMessage message)
    {
        if (_streams.TryGetValue(message.Stream, out var members))
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            foreach (var member in members)
            {
                member.Offer(message);
            }

            metrics.FannedOut(System.Diagnostics.Stopwatch.GetElapsedTime(started));
        }
    }

    /// <summary>How many local sockets are on <paramref name="stream"/>.</summary>
    public int CountMembers(string stream) => _streams.TryGetValue(stream, out var members) ? members.Length : 0;

    internal void Add(string stream, IStreamSubscriber subscriber)
    {
        lock (_gate)
        {
            var members = _streams.GetValueOrDefault(stream, []);
            _streams[stream] = members.Add(subscriber);
        }
    }

    internal void Remove(string stream, IStreamSubscriber subscriber)
    {
        lock (_gate)
        {
            if (!_streams.TryGetValue(stream, out var members))
            {
                return;
            }

            members = members.Remove(subscriber);
            if (members.IsEmpty)
            {
                _streams.TryRemove(stream, out _);
            }
            else
            {
                _streams[stream] = members;
            }
        }
    }
}

/// <summary>Whatever receives a stream's messages on this instance: a socket's membership, or a service of the app.</summary>
internal interface IStreamSubscriber
{
    void Offer(StreamMessage message);
}

/// <summary>
/// One socket on one stream. While the socket catches up on stored messages (resume), live ones are
/// held back and released afterwards, less those the catch-up already sent: no gap, no duplicate.
/// </summary>
internal sealed class StreamMembership(string stream, RealtimeConnection connection) : IStreamSubscriber
{
    private readonly Lock _gate = new();
    private volatile List<StreamMessage>? _heldBack;
    private volatile HashSet<long>? _replayed;

    public string Stream { get; } = stream;

    public RealtimeConnection Connection { get; } = connection;

    public void Offer(StreamMessage message)
    {
        if (_heldBack is null && _replayed is null)
        {
            Connection.TrySend(message.Frame);
            return;
        }

        lock (_gate)
        {
            if (_heldBack is not null)
            {
                _heldBack.Add(message);
                return;
            }

            if (_replayed?.Contains(message.Id) != true)
            {
                Connection.TrySend(message.Frame);
            }
        }
    }

    /// <summary>Holds live messages back until <see cref="EndReplay"/>.</summary>
    public void BeginReplay()
    {
        lock (_gate)
        {
            _heldBack ??= [];
            _replayed ??= [];
        }
    }

    /// <summary>Sends a stored message during the catch-up.</summary>
    public void Replay(StreamMessage message)
    {
        lock (_gate)
        {
            if (_replayed!.Add(message.Id))
            {
                Connection.TrySend(message.Frame);
            }
        }
    }

    /// <summary>Releases the held-back live messages the catch-up did not already send.</summary>
    public void EndReplay()
    {
        lock (_gate)
        {
            foreach (var message in _heldBack ?? [])
            {
                if (_replayed?.Contains(message.Id) != true)
                {
                    Connection.TrySend(message.Frame);
                }
            }

            // The replayed ids are kept: a message stored just before the catch-up read it may still be
            // on its way through the bus, and must not arrive twice.
            _heldBack = null;
        }
    }
}

using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// This instance's sockets, by stream. Delivery reads an immutable snapshot of a stream's members, so
/// fan-out takes no lock and allocates nothing per recipient; joins and leaves copy the snapshot.
/// </summary>
public sealed class StreamHub(RealtimeMetrics metrics)
{
    private readonly ConcurrentDictionary<StreamId, ImmutableArray<IStreamSubscriber>> _streams = new();
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
    public int CountMembers(StreamId stream) => _streams.TryGetValue(stream, out var members) ? members.Length : 0;

    /// <summary>Every socket's membership of a stream on this instance, as they are now.</summary>
    internal IEnumerable<StreamMembership> Memberships => _streams.Values.SelectMany(members => members.OfType<StreamMembership>());

    internal void Add(StreamId stream, IStreamSubscriber subscriber)
    {
        lock (_gate)
        {
            var members = _streams.GetValueOrDefault(stream, []);
            _streams[stream] = members.Add(subscriber);
        }
    }

    internal void Remove(StreamId stream, IStreamSubscriber subscriber)
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

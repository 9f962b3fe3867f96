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
    private bool _interrupted;
    private long _epoch;

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
            if (_interrupted && subscriber is StreamMembership membership)
            {
                membership.Interrupt(_epoch);
            }
        }
    }

    /// <summary>Counts the outages of the bus: a catch-up knows which one it ends, and leaves a newer one alone.</summary>
    internal long InterruptionEpoch
    {
        get
        {
            lock (_gate)
            {
                return _epoch;
            }
        }
    }

    /// <summary>The bus is down: every membership, and one that joins meanwhile, holds stored messages back until its catch-up.</summary>
    internal void Interrupt()
    {
        lock (_gate)
        {
            _interrupted = true;
            _epoch++;
            foreach (var membership in Memberships)
            {
                membership.Interrupt(_epoch);
            }
        }
    }

    /// <summary>The bus is back from outage <paramref name="epoch"/>: a membership that joins from now on is live at once.</summary>
    internal void EndInterruption(long epoch)
    {
        lock (_gate)
        {
            if (_epoch == epoch)
            {
                _interrupted = false;
            }
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

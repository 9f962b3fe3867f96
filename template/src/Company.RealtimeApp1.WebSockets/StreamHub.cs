using System.Collections.Concurrent;
using System.Collections.Immutable;

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// This instance's sockets, by stream. Delivery reads an immutable snapshot of a stream's members, so
/// fan-out takes no lock and allocates nothing per recipient; joins and leaves copy the snapshot.
/// </summary>
public sealed class StreamHub(RealtimeMetrics metrics)
{
    private readonly ConcurrentDictionary<string, ImmutableArray<IStreamSubscriber>> _streams = new(StringComparer.Ordinal);
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
    public int CountMembers(string stream) => _streams.TryGetValue(stream, out var members) ? members.Length : 0;

    /// <summary>Every socket's membership of a stream on this instance, as they are now.</summary>
    internal IEnumerable<StreamMembership> Memberships => _streams.Values.SelectMany(members => members.OfType<StreamMembership>());

    internal void Add(string stream, IStreamSubscriber subscriber)
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

    /// <summary>Counts the interruptions: a catch-up knows which one it ends, and leaves a newer one alone.</summary>
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

    /// <summary>
    /// The bus may be losing messages: every membership holds live ones back until it catches up, and so does
    /// one that joins meanwhile (<see cref="StreamCatchUp"/>), until <see cref="EndInterruption"/>.
    /// </summary>
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

    /// <summary>The bus delivers again after interruption <paramref name="epoch"/>: a membership that joins from now on is live at once.</summary>
    internal void EndInterruption(long epoch)
    {
        lock (_gate)
        {
            // A newer interruption began meanwhile: its own catch-up ends it.
            if (_epoch == epoch)
            {
                _interrupted = false;
            }
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
/// One socket on one stream. While the socket catches up on stored messages (resume, or the gap an outage
/// of the bus left), live ones are held back and released afterwards, less those the catch-up already
/// sent: no gap, no duplicate. It remembers the last id it delivered, where a catch-up after an outage starts.
/// </summary>
internal sealed class StreamMembership(string stream, RealtimeConnection connection, IStreamHistory history) : IStreamSubscriber
{
    private readonly Lock _gate = new();
    private volatile List<StreamMessage>? _heldBack;
    private volatile HashSet<long>? _replayed;
    private long _lastId;

    // The newest interruption this membership was in, and the newest it caught up on: interrupted while the first is ahead.
    private long _interruptedIn;
    private long _caughtUpOn;

    public string Stream { get; } = stream;

    public RealtimeConnection Connection { get; } = connection;

    public IStreamHistory History { get; } = history;

    /// <summary>The newest stored id this socket has had, or was known to have when it joined: a catch-up reads after it.</summary>
    public long LastId => Volatile.Read(ref _lastId);

    public void Offer(StreamMessage message)
    {
        if (_heldBack is null && _replayed is null)
        {
            Send(message);
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
                Send(message);
            }
        }
    }

    /// <summary>Where this socket stands when it joined: the messages up to <paramref name="id"/> are not for it to catch up on.</summary>
    public void StartAfter(long id)
    {
        lock (_gate)
        {
            Advance(id);
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

    private bool IsInterrupted => _interruptedIn > _caughtUpOn;

    /// <summary>The bus may have lost messages: hold live ones back until <see cref="CatchUpAsync"/> has read the gap from the store.</summary>
    public void Interrupt(long epoch)
    {
        lock (_gate)
        {
            _interruptedIn = Math.Max(_interruptedIn, epoch);
            _heldBack ??= [];
            _replayed ??= [];
        }
    }

    /// <summary>
    /// Sends the stored messages after <paramref name="since"/>, then releases what was held back. False when
    /// the history no longer holds all of them.
    /// </summary>
    public async ValueTask<bool> ReplayAsync(long since, CancellationToken cancellationToken)
    {
        try
        {
            var complete = await History.HasEverythingSinceAsync(Stream, since, cancellationToken);
            await foreach (var message in History.ReadSinceAsync(Stream, since, cancellationToken))
            {
                Replay(message);
            }

            return complete;
        }
        finally
        {
            EndReplay();
        }
    }

    /// <summary>
    /// After an interruption (<see cref="Interrupt"/>): sends what was stored after <see cref="LastId"/>, then
    /// releases what was held back. False when the gap cannot be filled: the history no longer holds it, or
    /// reading the store failed (it throws); either way nothing held back is released, and the socket must be
    /// closed so its client resumes with <c>since</c>. True at once for a membership that was not interrupted.
    /// </summary>
    /// <remarks>
    /// A membership interrupted again after <paramref name="epoch"/> is left as it is: the newer interruption's
    /// catch-up reads both gaps at once.
    /// </remarks>
    public async ValueTask<bool> CatchUpAsync(long epoch, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!IsInterrupted || _interruptedIn > epoch)
            {
                return true;
            }

            _caughtUpOn = epoch;
        }

        var since = LastId;
        if (!await History.HasEverythingSinceAsync(Stream, since, cancellationToken))
        {
            return false;
        }

        // A read that fails half way throws, and leaves what is held back held: the caller closes the socket.
        await foreach (var message in History.ReadSinceAsync(Stream, since, cancellationToken))
        {
            Replay(message);
        }

        EndReplay();
        return true;
    }

    /// <summary>Releases the held-back live messages the catch-up did not already send; while interrupted, holds on.</summary>
    public void EndReplay()
    {
        lock (_gate)
        {
            // A replay that ends during an outage, or a catch-up overtaken by a newer one, must not let live
            // messages through before the gap is read: the next catch-up releases them.
            if (IsInterrupted)
            {
                return;
            }

            foreach (var message in _heldBack ?? [])
            {
                if (_replayed?.Contains(message.Id) != true)
                {
                    Send(message);
                }
            }

            // The replayed ids are kept: a message stored just before the catch-up read it may still be
            // on its way through the bus, and must not arrive twice.
            _heldBack = null;
        }
    }

    /// <summary>Sends a stored message during the catch-up.</summary>
    private void Replay(StreamMessage message)
    {
        lock (_gate)
        {
            if (_replayed!.Add(message.Id))
            {
                Send(message);
            }
        }
    }

    private void Send(StreamMessage message)
    {
        Connection.TrySend(message.Frame);
        Advance(message.Id);
    }

    private void Advance(long id)
    {
        // Live sends run outside the gate, a catch-up's inside it: the id only ever moves forward.
        var last = Volatile.Read(ref _lastId);
        while (id > last)
        {
            var seen = Interlocked.CompareExchange(ref _lastId, id, last);
            if (seen == last)
            {
                return;
            }

            last = seen;
        }
    }
}

namespace Company.RealtimeApp1.WebSockets;

/// <summary>
/// One socket on one stream. A stored message is delivered in position order, each once: one that arrives
/// before those ahead of it (from another instance, or after the bus lost some) is held back while they
/// arrive or are read from the store, and a socket whose gap cannot be filled (trimmed, or the store fails)
/// is closed with 1012 so that its client resumes with <c>since</c>. While a replay from the store runs,
/// live messages are held back and released after it, less those it already sent. A message that is not
/// stored (position 0) goes out at once.
/// </summary>
internal sealed partial class StreamMembership(StreamId stream, RealtimeConnection connection, IStreamHistory history, ILogger logger)
    : IStreamSubscriber
{
    /// <summary>The close reason of a socket whose gap could not be filled: what its client should do.</summary>
    public const string CloseReason = "messages were missed; reconnect with since";

    /// <summary>
    /// How long a message that arrived early waits for those ahead of it before they are read from the store:
    /// messages from two instances cross within milliseconds, and a read per socket is what this avoids.
    /// </summary>
    internal static readonly TimeSpan GapWait = TimeSpan.FromMilliseconds(250);

    private const long NotStarted = -1;

    /// <summary>Messages held back behind a gap at most: beyond, the socket is closed 1012 rather than hold more.</summary>
    internal const int MaxHeld = 4096;

    /// <summary>Reads of the store for one gap: a message behind it was committed before the one ahead of it, so the next read finds it.</summary>
    private const int FillReads = 5;

    private readonly Lock _gate = new();

    // The newest position this socket has delivered, or was told it need not (it joined after it).
    private long _delivered = NotStarted;

    // Positions up to this one were stored before the socket joined: a `resume` on the open socket may send them.
    private long _joinedAfter = NotStarted;

    // Over a bus that delivers each stored message once and in order, the socket starts at the first one it gets.
    private bool _startsAtFirst;
    private bool _replaying;
    private bool _filling;
    private bool _fillAgain;

    // A catch-up asked for everything after the last delivered message, gap or not.
    private bool _fillEverything;

    // A catch-up came while the socket was still joining or replaying: it runs when that ends.
    private bool _catchUpPending;

    // The newest outage of the bus this socket was in, and the newest it caught up on: while the first is ahead, stored
    // messages are held back, so that what was revoked meanwhile is re-checked before anything more is sent.
    private long _interruptedIn;
    private long _caughtUpOn;
    private SortedList<long, StreamMessage>? _held;

    public StreamId Stream { get; } = stream;

    public RealtimeConnection Connection { get; } = connection;

    public IStreamHistory History { get; } = history;

    /// <summary>Whether the stream has a log to catch up from.</summary>
    public bool IsStored => History is not NoHistory;

    public void Offer(StreamMessage message)
    {
        if (message.Id == StreamPublisher.NotStored)
        {
            if (message.ExceptConnection != Connection.Id)
            {
                Connection.TrySend(message.Frame);
            }

            return;
        }

        lock (_gate)
        {
            if (_delivered == NotStarted && _startsAtFirst)
            {
                _delivered = _joinedAfter = message.Id - 1;
            }

            if (_delivered != NotStarted && message.Id <= _delivered)
            {
                return;
            }

            if (IsInterrupted)
            {
                Hold(message);
                return;
            }

            if (_delivered != NotStarted && !_replaying && message.Id == _delivered + 1 && _held is not { Count: > 0 })
            {
                Send(message);
                return;
            }

            Hold(message);
            if (_delivered != NotStarted && !_replaying && ReleaseHeld())
            {
                RequestFill(afterGapWait: true);
            }
        }
    }

    /// <summary>Starts after position <paramref name="head"/>, read once the socket was subscribed: what follows it is this socket's.</summary>
    public void StartAfter(long head)
    {
        lock (_gate)
        {
            _delivered = _joinedAfter = head;
            if (ReleaseHeld())
            {
                RequestFill(afterGapWait: true);
            }

            RunPendingCatchUp();
        }
    }

    /// <summary>Starts at the first stored message that arrives (or arrived while joining): for a bus that neither loses nor reorders.</summary>
    public void StartAtFirstMessage()
    {
        lock (_gate)
        {
            if (_held is { Count: > 0 } held)
            {
                _delivered = _joinedAfter = held.Keys[0] - 1;
                ReleaseHeld();
            }
            else
            {
                _startsAtFirst = true;
            }
        }
    }

    /// <summary>
    /// Sends what is stored after <paramref name="since"/>: from the store, on a socket that has not started yet
    /// (live messages are held back until <see cref="EndReplay"/>); on an open one, only what was stored before
    /// it joined, since it delivers, or has delivered, everything after. Throws when the store cannot be read.
    /// </summary>
    public async ValueTask<ReplayOutcome> ReplayAsync(long since, CancellationToken cancellationToken)
    {
        if (!IsStored)
        {
            return ReplayOutcome.NotRecovered;
        }

        long joinedAfter;
        lock (_gate)
        {
            joinedAfter = _joinedAfter;
        }

        if (joinedAfter != NotStarted)
        {
            return await ReplayBeforeJoinAsync(since, joinedAfter, cancellationToken);
        }

        // Read before the socket takes `since` for delivered: live messages are held back meanwhile (not started), none dropped.
        var head = await History.HeadAsync(Stream, cancellationToken);
        lock (_gate)
        {
            _replaying = true;
            _startsAtFirst = false;
            _delivered = _joinedAfter = Math.Min(since, head);
        }

        // Past the newest message: the socket goes on live from it.
        return since > head ? ReplayOutcome.BeyondHead : await ReplayFromAsync(since, cancellationToken);
    }

    /// <summary>Ends a replay: releases what was held back, less what the replay sent.</summary>
    public void EndReplay()
    {
        lock (_gate)
        {
            if (!_replaying)
            {
                return;
            }

            _replaying = false;
            if (ReleaseHeld())
            {
                RequestFill(afterGapWait: true);
            }

            RunPendingCatchUp();
        }
    }

    private bool IsInterrupted => _interruptedIn > _caughtUpOn;

    /// <summary>The bus is down (outage <paramref name="epoch"/>): stored messages are held back until <see cref="CatchUp"/> for it.</summary>
    public void Interrupt(long epoch)
    {
        lock (_gate)
        {
            _interruptedIn = Math.Max(_interruptedIn, epoch);
        }
    }

    /// <summary>
    /// The bus may have lost messages: reads what was stored after the last delivered one, and sends it, then what was
    /// held back. With <paramref name="epoch"/>, the bus is back from that outage (and the socket was re-checked); a
    /// socket in a newer outage is left to that one's catch-up. Without, a check found the socket behind its stream.
    /// </summary>
    public void CatchUp(long? epoch = null)
    {
        lock (_gate)
        {
            if (!IsStored)
            {
                return;
            }

            if (epoch is { } outage)
            {
                if (_interruptedIn > outage)
                {
                    return;
                }

                _caughtUpOn = Math.Max(_caughtUpOn, outage);
            }
            else if (IsInterrupted)
            {
                return;
            }

            if (_delivered == NotStarted || _replaying)
            {
                // Where the socket starts is not settled yet: the catch-up runs once it is.
                _catchUpPending = true;
                return;
            }

            RequestFill(afterGapWait: false);
        }
    }

    /// <summary>The newest position this socket delivered (or started after); -1 before it started.</summary>
    public long Delivered
    {
        get
        {
            lock (_gate)
            {
                return _delivered;
            }
        }
    }

    private void RunPendingCatchUp()
    {
        if (_catchUpPending)
        {
            _catchUpPending = false;
            RequestFill(afterGapWait: false);
        }
    }

    private async ValueTask<ReplayOutcome> ReplayFromAsync(long since, CancellationToken cancellationToken)
    {
        var outcome = ReplayOutcome.Recovered;
        var any = false;
        await foreach (var message in History.ReadAsync(Stream, since, cancellationToken))
        {
            lock (_gate)
            {
                if (!any && message.Id > since + 1)
                {
                    // The history no longer starts right after `since`: the client is told, and goes on from here.
                    outcome = ReplayOutcome.NotRecovered;
                    _delivered = _joinedAfter = message.Id - 1;
                }

                any = true;
                if (message.Id == _delivered + 1)
                {
                    Send(message);
                }
            }
        }

        return outcome;
    }

    private async ValueTask<ReplayOutcome> ReplayBeforeJoinAsync(long since, long joinedAfter, CancellationToken cancellationToken)
    {
        if (since >= joinedAfter)
        {
            // Everything after `since` is this socket's to deliver, in order, and it does: nothing to send twice.
            long delivered;
            lock (_gate)
            {
                delivered = _delivered;
            }

            return since > delivered && since > await History.HeadAsync(Stream, cancellationToken)
                ? ReplayOutcome.BeyondHead
                : ReplayOutcome.Recovered;
        }

        var sent = 0L;
        await foreach (var message in History.ReadAsync(Stream, since, cancellationToken))
        {
            if (message.Id > joinedAfter)
            {
                break;
            }

            Connection.TrySend(message.Frame);
            sent++;
        }

        lock (_gate)
        {
            _joinedAfter = Math.Min(_joinedAfter, since);
        }

        // The log is contiguous: all of (since, joinedAfter] or something was trimmed.
        return sent == joinedAfter - since ? ReplayOutcome.Recovered : ReplayOutcome.NotRecovered;
    }

    private void Hold(StreamMessage message)
    {
        _held ??= [];
        _held.TryAdd(message.Id, message);
        if (_held.Count > MaxHeld)
        {
            // Behind a gap for this long, the socket is better off resuming than holding more.
            _held = null;
            Unfillable(null);
        }
    }

    /// <summary>Sends the held messages that are next in line; true when some remain, behind a gap.</summary>
    private bool ReleaseHeld()
    {
        // During an outage nothing is released: the catch-up after it does.
        if (_held is not { } held || IsInterrupted)
        {
            return false;
        }

        while (held.Count > 0)
        {
            var next = held.Values[0];
            if (next.Id > _delivered + 1)
            {
                return true;
            }

            held.RemoveAt(0);
            if (next.Id == _delivered + 1)
            {
                Send(next);
            }
        }

        _held = null;
        return false;
    }

    private void RequestFill(bool afterGapWait)
    {
        _fillEverything |= !afterGapWait;
        if (_filling)
        {
            _fillAgain = true;
            return;
        }

        _filling = true;
        // Started off this thread: the caller holds the gate, and a read of the store must not run under it.
        _ = Task.Run(() => FillAsync(afterGapWait));
    }

    /// <summary>Reads what is missing from the store and sends it in order; closes the socket with 1012 when it cannot.</summary>
    private async Task FillAsync(bool afterGapWait)
    {
        var closing = Connection.Closing;
        try
        {
            if (afterGapWait)
            {
                await Task.Delay(GapWait, closing);
            }

            var reads = 0;
            while (true)
            {
                long after;
                lock (_gate)
                {
                    _fillAgain = false;
                    var everything = _fillEverything;
                    _fillEverything = false;
                    if (IsInterrupted || (!everything && _held is not { Count: > 0 }))
                    {
                        // What was missing arrived from the bus meanwhile.
                        _filling = false;
                        return;
                    }

                    after = _delivered;
                }

                var trimmed = false;
                await foreach (var message in History.ReadAsync(Stream, after, closing))
                {
                    lock (_gate)
                    {
                        if (IsInterrupted)
                        {
                            break;
                        }

                        // The store no longer holds what is missing: trimmed away.
                        trimmed = message.Id > _delivered + 1;
                        if (trimmed)
                        {
                            break;
                        }

                        if (message.Id == _delivered + 1)
                        {
                            Send(message);
                        }
                    }
                }

                lock (_gate)
                {
                    var gap = ReleaseHeld();
                    if (trimmed || (gap && ++reads >= FillReads))
                    {
                        Unfillable(null);
                        return;
                    }

                    if (!gap && !_fillAgain)
                    {
                        _filling = false;
                        return;
                    }

                    // Still a gap: the message behind it was committed before the one ahead of it arrived, and
                    // the read that missed it began before that commit. The next read finds it.
                    _fillEverything |= gap;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(20), closing);
            }
        }
        catch (OperationCanceledException) when (closing.IsCancellationRequested)
        {
            // The socket is closing: nothing more to send.
        }
        catch (Exception exception)
        {
            Unfillable(exception);
        }
    }

    private void Unfillable(Exception? exception)
    {
        Log.GapNotFilled(logger, exception, Stream.Name, Connection.Id);
        Connection.Close(CloseCodes.ServiceRestart, CloseReason);
    }

    private void Send(StreamMessage message)
    {
        Connection.TrySend(message.Frame);
        _delivered = message.Id;
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Could not fill a gap in stream {Stream} for connection {ConnectionId} from the store; closing it with 1012")]
        public static partial void GapNotFilled(ILogger logger, Exception? exception, string stream, string connectionId);
    }
}

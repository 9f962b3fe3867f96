using System.Collections.Concurrent;

namespace Company.RealtimeApp1.Auth;

/// <summary>
/// Remembers, for <see cref="Lifetime"/>, the database checks that let a request in (this user is
/// enabled with this security stamp; this user belongs to this organization), so that a reconnecting
/// client or a busy publisher does not cost a query per request. Only answers that let a caller in are
/// kept, so nothing that grants access (re-enabling a user, adding a member) ever waits for an entry to
/// expire.
/// </summary>
/// <remarks>
/// Whatever withdraws access also publishes a revocation (<see cref="Realtime.ConnectionRevocations"/>),
/// which reaches every instance and calls <see cref="Forget"/>. The lifetime only bounds how long a change
/// made behind the app's back (a hand-edited database) goes unnoticed by a new request.
/// </remarks>
public sealed class AccessCache(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    private readonly ConcurrentDictionary<(Guid User, Guid Scope), Entry> _entries = new();
    private long _generation;
    private long _nextSweep;

    /// <summary>What an entry is about: the user's own account, or one organization of theirs.</summary>
    public static readonly Guid AccountScope = Guid.Empty;

    /// <summary>Read before the database is asked, and handed back to <see cref="Remember"/>.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    public bool TryGet(Guid user, Guid scope, out string value)
    {
        if (_entries.TryGetValue((user, scope), out var entry) && entry.ExpiresAt > time.GetTimestamp())
        {
            value = entry.Value;
            return true;
        }

        value = "";
        return false;
    }

    /// <summary>
    /// Keeps an answer read from the database, unless a revocation arrived since <paramref name="generation"/>
    /// was read: the answer may predate it.
    /// </summary>
    public void Remember(Guid user, Guid scope, string value, long generation)
    {
        var now = time.GetTimestamp();
        var key = (user, scope);
        var entry = new Entry(value, now + (long)(Lifetime.TotalSeconds * time.TimestampFrequency));
        _entries[key] = entry;
        // Forget moves the generation before it removes entries: either it removes this one, or this
        // check sees the new generation and takes the entry back out.
        if (Generation != generation)
        {
            _entries.TryRemove(new KeyValuePair<(Guid, Guid), Entry>(key, entry));
        }

        SweepWhenDue(now);
    }

    /// <summary>Drops everything known about the user: their access changed.</summary>
    public void Forget(Guid user)
    {
        Interlocked.Increment(ref _generation);
        foreach (var key in _entries.Keys)
        {
            if (key.User == user)
            {
                _entries.TryRemove(key, out _);
            }
        }
    }

    private void SweepWhenDue(long now)
    {
        var due = Interlocked.Read(ref _nextSweep);
        if (now < due || Interlocked.CompareExchange(ref _nextSweep, now + (long)(Lifetime.TotalSeconds * time.TimestampFrequency), due) != due)
        {
            return;
        }

        foreach (var (key, entry) in _entries)
        {
            if (entry.ExpiresAt <= now)
            {
                _entries.TryRemove(new KeyValuePair<(Guid, Guid), Entry>(key, entry));
            }
        }
    }

    private sealed record Entry(string Value, long ExpiresAt);
}

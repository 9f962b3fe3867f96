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
/// Whatever withdraws access also publishes a revocation, which the app hands to <see cref="Forget"/> on
/// every instance it reaches: at once with the in-memory bus; with a
/// bus between instances, as soon as the revocation arrives there. The lifetime bounds how long a
/// revocation that never arrives, or a change made behind the app's back (a hand-edited database), goes
/// unnoticed by new requests.
/// </remarks>
public sealed class AccessCache(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    // The user's own account is under Organization null; nothing a client sends can name that key.
    private readonly ConcurrentDictionary<(Guid User, Guid? Organization), Entry> _entries = new();
    private long _generation;
    private long _nextSweep;

    /// <summary>Read before the database is asked, and handed back when its answer is remembered.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    /// <summary>The security-stamp digest the user was last let in with, if that was within the lifetime.</summary>
    public bool TryGetAccount(Guid user, out string stampDigest) => TryGet((user, null), out stampDigest);

    public void RememberAccount(Guid user, string stampDigest, long generation) => Remember((user, null), stampDigest, generation);

    /// <summary>Whether the user was found a member of the organization within the lifetime.</summary>
    public bool IsRememberedMember(Guid user, Guid organization) => TryGet((user, organization), out _);

    public void RememberMember(Guid user, Guid organization, long generation) => Remember((user, organization), "", generation);

    private bool TryGet((Guid, Guid?) key, out string value)
    {
        if (_entries.TryGetValue(key, out var entry) && entry.ExpiresAt > time.GetTimestamp())
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
    private void Remember((Guid, Guid?) key, string value, long generation)
    {
        var now = time.GetTimestamp();
        var entry = new Entry(value, now + (long)(Lifetime.TotalSeconds * time.TimestampFrequency));
        _entries[key] = entry;
        // Forget moves the generation before it removes entries: either it removes this one, or this
        // check sees the new generation and takes the entry back out.
        if (Generation != generation)
        {
            _entries.TryRemove(new KeyValuePair<(Guid, Guid?), Entry>(key, entry));
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
                _entries.TryRemove(new KeyValuePair<(Guid, Guid?), Entry>(key, entry));
            }
        }
    }

    private sealed record Entry(string Value, long ExpiresAt);
}

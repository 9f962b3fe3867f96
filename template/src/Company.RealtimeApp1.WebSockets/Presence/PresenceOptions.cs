namespace Company.RealtimeApp1.WebSockets;

/// <summary>How long an instance's presence records live, and how often they are renewed and compared.</summary>
public sealed class PresenceOptions
{
    public const string SectionName = RealtimeOptions.SectionName + ":Presence";

    /// <summary>Whether a consumer that asks for presence gets it; false turns it off for every stream (to measure what it costs, say).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>A record not renewed for this long is gone: the users of an instance that died leave everyone's presence by then.</summary>
    public TimeSpan Lifetime { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>How often an instance renews its records and reads the others' again (so no ghost outlives <see cref="Lifetime"/> plus this).</summary>
    public TimeSpan RenewInterval { get; set; } = TimeSpan.FromSeconds(15);
}

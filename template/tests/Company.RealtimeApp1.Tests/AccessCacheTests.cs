using Company.RealtimeApp1.Auth;

namespace Company.RealtimeApp1.Tests;

public sealed class AccessCacheTests
{
    private readonly ManualTime _time = new();
    private readonly Guid _user = Guid.NewGuid();
    private readonly Guid _organization = Guid.NewGuid();

    [Fact]
    public void AnAnswerIsRememberedForTheLifetimeAndNoLonger()
    {
        var cache = new AccessCache(_time);
        cache.Remember(_user, AccessCache.AccountScope, "stamp", cache.Generation);

        _time.Advance(AccessCache.Lifetime - TimeSpan.FromMilliseconds(1));
        Assert.True(cache.TryGet(_user, AccessCache.AccountScope, out var value));
        Assert.Equal("stamp", value);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(cache.TryGet(_user, AccessCache.AccountScope, out _));
    }

    [Fact]
    public void ForgettingAUserDropsTheirAccountAndOrganizationsButNoOneElses()
    {
        var cache = new AccessCache(_time);
        var other = Guid.NewGuid();
        cache.Remember(_user, AccessCache.AccountScope, "stamp", cache.Generation);
        cache.Remember(_user, _organization, "member", cache.Generation);
        cache.Remember(other, _organization, "member", cache.Generation);

        cache.Forget(_user);

        Assert.False(cache.TryGet(_user, AccessCache.AccountScope, out _));
        Assert.False(cache.TryGet(_user, _organization, out _));
        Assert.True(cache.TryGet(other, _organization, out _));
    }

    [Fact]
    public void AnAnswerReadBeforeARevocationIsNotKept()
    {
        // The database was read, then the user lost access and was forgotten, then the stale answer came back.
        var cache = new AccessCache(_time);
        var generation = cache.Generation;
        cache.Forget(_user);

        cache.Remember(_user, AccessCache.AccountScope, "old stamp", generation);

        Assert.False(cache.TryGet(_user, AccessCache.AccountScope, out _));
        cache.Remember(_user, AccessCache.AccountScope, "new stamp", cache.Generation);
        Assert.True(cache.TryGet(_user, AccessCache.AccountScope, out var value));
        Assert.Equal("new stamp", value);
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}

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
        cache.RememberAccount(_user, "stamp", cache.Generation);
        cache.RememberMember(_user, _organization, cache.Generation);

        _time.Advance(AccessCache.Lifetime - TimeSpan.FromMilliseconds(1));
        Assert.True(cache.TryGetAccount(_user, out var value));
        Assert.Equal("stamp", value);
        Assert.True(cache.IsRememberedMember(_user, _organization));

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.False(cache.TryGetAccount(_user, out _));
        Assert.False(cache.IsRememberedMember(_user, _organization));
    }

    [Fact]
    public void ForgettingAUserDropsTheirAccountAndOrganizationsButNoOneElses()
    {
        var cache = new AccessCache(_time);
        var other = Guid.NewGuid();
        cache.RememberAccount(_user, "stamp", cache.Generation);
        cache.RememberMember(_user, _organization, cache.Generation);
        cache.RememberMember(other, _organization, cache.Generation);

        cache.Forget(_user);

        Assert.False(cache.TryGetAccount(_user, out _));
        Assert.False(cache.IsRememberedMember(_user, _organization));
        Assert.True(cache.IsRememberedMember(other, _organization));
    }

    [Fact]
    public void AnAnswerReadBeforeARevocationIsNotKept()
    {
        // The database was read, then the user lost access and was forgotten, then the stale answer came back.
        var cache = new AccessCache(_time);
        var generation = cache.Generation;
        cache.Forget(_user);

        cache.RememberAccount(_user, "old stamp", generation);

        Assert.False(cache.TryGetAccount(_user, out _));
        cache.RememberAccount(_user, "new stamp", cache.Generation);
        Assert.True(cache.TryGetAccount(_user, out var value));
        Assert.Equal("new stamp", value);
    }

    [Theory]
    [InlineData("00000000-0000-0000-0000-000000000000")]
    [InlineData("6d1f0a4e-0000-4000-8000-000000000001")]
    public void AUsersAccountIsNoMembershipOfAnyOrganization(string organization)
    {
        var cache = new AccessCache(_time);
        cache.RememberAccount(_user, "stamp", cache.Generation);

        Assert.False(cache.IsRememberedMember(_user, Guid.Parse(organization)));
    }

    private sealed class ManualTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}

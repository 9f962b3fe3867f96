using System.Net;
using System.Net.Http.Json;
using System.Data.Common;
using Company.RealtimeApp1.Auth;
using Company.RealtimeApp1.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// A refresh-token family is one sign-in and every token rotated from it: it dies as a whole, at a fixed
/// time, and with the user's authority.
/// </summary>
public sealed class RefreshTokenFamilyTests(RealtimeApplication app) : IClassFixture<RealtimeApplication>
{
    private const string InvalidRefresh = "The refresh token is invalid, expired or revoked.";

    [Fact]
    public async Task OfConcurrentRefreshesOfOneTokenExactlyOneWinsAndAfterwardsTheWholeFamilyIsDead()
    {
        for (var round = 0; round < 5; round++)
        {
            var (userName, password) = await app.CreateUniqueUserAsync();
            var tokens = await app.SignInAsync(userName, password);

            var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(async _ =>
            {
                using var response = await app.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", tokens.RefreshToken));
                return (response.StatusCode, Pair: response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<TokenPair>() : null);
            }));

            var winner = Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
            Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode));
            // The losers presented a consumed token: a reuse, so the token just issued to the winner is dead too.
            await app.AssertRefreshRefusedAsync(winner.Pair!.RefreshToken);
        }
    }

    [Fact]
    public async Task AFamilyEndsRefreshTokenDaysAfterItsSignInHoweverOftenItRotates()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        using var timed = RealtimeApplication.With(new(), services: s => s.AddSingleton<TimeProvider>(clock));
        var (userName, password) = await timed.CreateUniqueUserAsync();
        var lifetime = timed.Services.GetRequiredService<IOptions<JwtOptions>>().Value.RefreshTokenLifetime;
        var tokens = await timed.SignInAsync(userName, password);

        clock.Advance(lifetime - TimeSpan.FromHours(1));
        using var late = await timed.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", tokens.RefreshToken));
        Assert.Equal(HttpStatusCode.OK, late.StatusCode);
        var rotated = (await late.Content.ReadFromJsonAsync<TokenPair>())!;

        clock.Advance(TimeSpan.FromHours(1));
        using var expired = await timed.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", rotated.RefreshToken));

        Assert.Equal(HttpStatusCode.BadRequest, expired.StatusCode);
        Assert.Equal(("invalid_grant", InvalidRefresh), await expired.ReadOAuthErrorAsync());
    }

    [Fact]
    public async Task ARefreshTokenFromBeforeASecurityStampChangeIsRefused()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);

        await app.ChangeUserAsync(userName, (users, user) => users.UpdateSecurityStampAsync(user));

        await app.AssertRefreshRefusedAsync(tokens.RefreshToken);
    }

    [Fact]
    public async Task DisablingAUserRevokesTheirFamiliesForGoodEvenOnceTheyAreEnabledAgain()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var phone = await app.SignInAsync(userName, password);
        var laptop = await app.SignInAsync(userName, password);

        await app.ChangeUserAsync(userName, (users, user) =>
        {
            user.IsDisabled = true;
            return users.UpdateAsync(user);
        });
        await app.ChangeUserAsync(userName, (users, user) =>
        {
            user.IsDisabled = false;
            return users.UpdateAsync(user);
        });

        await app.AssertRefreshRefusedAsync(phone.RefreshToken);
        await app.AssertRefreshRefusedAsync(laptop.RefreshToken);
        await app.SignInAsync(userName, password);
    }

    [Fact]
    public async Task AFamilyOfADeletedUserIsGone()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);

        await app.ChangeUserAsync(userName, (users, user) => users.DeleteAsync(user));

        await app.AssertRefreshRefusedAsync(tokens.RefreshToken);
    }

    [Fact]
    public async Task APasswordChangeCommittedJustAfterARotationLeavesItsAccessTokenDead()
    {
        var change = new AfterCommit();
        using var raced = RealtimeApplication.With(new(), services: s => s.ConfigureDbContext<AppDbContext>(o => o.AddInterceptors(change)));
        var (userName, password) = await raced.CreateUniqueUserAsync();
        var tokens = await raced.SignInAsync(userName, password);
        change.Arm(() => raced.ChangeUserAsync(userName, (users, user) => users.UpdateSecurityStampAsync(user)));

        using var response = await raced.PostTokenAsync(("grant_type", "refresh_token"), ("refresh_token", tokens.RefreshToken));
        var rotated = (await response.Content.ReadFromJsonAsync<TokenPair>())!;

        Assert.True(change.Ran);
        // The rotation checked the old stamp, so the token it issued carries the old stamp, which no longer holds.
        using var me = await raced.CreateClient(rotated.AccessToken).GetAsync("/me");
        Assert.Equal(HttpStatusCode.Unauthorized, me.StatusCode);
    }

    /// <summary>Once armed, runs a change right after the next transaction commits, before its request goes on.</summary>
    private sealed class AfterCommit : DbTransactionInterceptor
    {
        private Func<Task>? _change;

        public bool Ran { get; private set; }

        public void Arm(Func<Task> change) => Volatile.Write(ref _change, change);

        public override async Task TransactionCommittedAsync(
            DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Exchange(ref _change, null) is { } change)
            {
                await change();
                Ran = true;
            }
        }
    }
}

using System.Data.Common;
using System.Net;
using System.Net.Http.Json;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.WebSockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Hosting;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// A socket never outlives its authority, however that authority is withdrawn: during its own handshake,
/// behind the app's back, or while it renews its token.
/// </summary>
public sealed class ConnectionAuthorityTests
{
    private static readonly TimeSpan Promptly = TimeSpan.FromSeconds(2);

    [Fact]
    public async Task AMemberRemovedRightAfterTheirHandshakeReadTheMembershipIsClosedWith4003()
    {
        var removal = new RemovalAfterMembershipRead();
        using var app = RealtimeApplication.With(new(), services: s => s.ConfigureDbContext<AppDbContext>(o => o.AddInterceptors(removal)));
        var (org, admin, member) = await CreateOrganizationAsync(app);
        removal.Arm(() => RemoveMemberAsync(app, admin, org, member));

        await using var socket = await app.ConnectAsync(PresenceConsumer.PathFor(org), member.Token);

        await socket.ReceiveJsonAsync("welcome");
        Assert.Equal((4003, "membership removed"), await socket.ReceiveCloseAsync().WaitAsync(Promptly));
        Assert.True(removal.Removed);
    }

    [Fact]
    public async Task AMemberRemovedAtAnyMomentOfTheirHandshakeKeepsNoSocket()
    {
        using var app = new RealtimeApplication();
        var (org, admin, member) = await CreateOrganizationAsync(app);

        for (var offset = 0; offset < 30; offset++)
        {
            var connecting = app.ConnectAsync(PresenceConsumer.PathFor(org), member.Token);
            await Task.Delay(TimeSpan.FromMilliseconds(offset % 10 * 0.5 + offset / 10));
            await RemoveMemberAsync(app, admin, org, member);

            await using var socket = await connecting;
            var first = await socket.ReceiveJsonAsync();
            if (first.GetProperty("type").GetString() == "auth")
            {
                // Refused at the handshake: the removal came first.
                Assert.Equal(403, first.GetProperty("status").GetInt32());
                Assert.Equal((4003, "forbidden"), await socket.ReceiveCloseAsync());
            }
            else
            {
                Assert.Equal("welcome", first.GetProperty("type").GetString());
                Assert.Equal(4003, (await socket.ReceiveCloseAsync().WaitAsync(Promptly)).Code);
            }

            using var added = await app.CreateClient(admin.Token).PostAsJsonAsync(
                $"/api/orgs/{org}/members", new { userId = member.Id, role = "member" });
            Assert.Equal(HttpStatusCode.OK, added.StatusCode);
        }
    }

    [Fact]
    public async Task AuthRefreshOfASocketWhoseMembershipWasRemovedBehindTheAppsBackClosesItWith4003()
    {
        using var app = new RealtimeApplication();
        var (org, _, member) = await CreateOrganizationAsync(app);
        await using var socket = await app.ConnectAsync(PresenceConsumer.PathFor(org), member.Token);
        await socket.ReceiveJsonAsync("welcome");
        var fresh = await app.SignInAsync(member.UserName, member.Password);

        await ChangeDatabaseAsync(app, db => db.Memberships.Where(m => m.UserId == member.Id).ExecuteDeleteAsync());
        await socket.SendJsonAsync(new { type = "auth.refresh", access_token = fresh.AccessToken });

        Assert.Equal((4003, "membership removed"), await socket.ReceiveCloseAsync());
    }

    [Fact]
    public async Task AuthRefreshOfASocketWhoseUserWasDisabledBehindTheAppsBackClosesItWith4001()
    {
        using var app = new RealtimeApplication();
        var (_, _, member) = await CreateOrganizationAsync(app);
        await using var socket = await app.ConnectAsync(EchoConsumer.Path, member.Token);
        await socket.ReceiveJsonAsync("welcome");
        var fresh = await app.SignInAsync(member.UserName, member.Password);

        await ChangeDatabaseAsync(app, db => db.Users.Where(u => u.Id == member.Id).ExecuteUpdateAsync(u => u.SetProperty(x => x.IsDisabled, true)));
        await socket.SendJsonAsync(new { type = "auth.refresh", access_token = fresh.AccessToken });

        Assert.Equal((4001, "credentials changed"), await socket.ReceiveCloseAsync());
    }

    [Fact]
    public async Task SocketsOfAUserDisabledBehindTheAppsBackCloseAtTheNextRecheck()
    {
        using var app = RealtimeApplication.With(new() { ["WebSockets:RecheckInterval"] = "00:00:01" });
        var (org, _, member) = await CreateOrganizationAsync(app);
        await using var userSocket = await app.ConnectAsync(EchoConsumer.Path, member.Token);
        await using var events = await app.ConnectAsync(PresenceConsumer.PathFor(org), member.Token);
        await userSocket.ReceiveJsonAsync("welcome");
        await events.ReceiveJsonAsync("welcome");

        await ChangeDatabaseAsync(app, db => db.Users.Where(u => u.Id == member.Id).ExecuteUpdateAsync(u => u.SetProperty(x => x.IsDisabled, true)));

        Assert.Equal((4001, "credentials changed"), await userSocket.ReceiveCloseAsync());
        Assert.Equal((4001, "credentials changed"), await events.ReceiveCloseAsync());
    }

    [Fact]
    public async Task ASocketWhoseUsersSecurityStampChangedBehindTheAppsBackClosesAtTheNextRecheck()
    {
        using var app = RealtimeApplication.With(new() { ["WebSockets:RecheckInterval"] = "00:00:01" });
        var (_, _, member) = await CreateOrganizationAsync(app);
        await using var socket = await app.ConnectAsync(EchoConsumer.Path, member.Token);
        await socket.ReceiveJsonAsync("welcome");

        await ChangeDatabaseAsync(app, db => db.Users.Where(u => u.Id == member.Id)
            .ExecuteUpdateAsync(u => u.SetProperty(x => x.SecurityStamp, Guid.NewGuid().ToString("N"))));

        Assert.Equal((4001, "credentials changed"), await socket.ReceiveCloseAsync());
    }

    [Fact]
    public async Task AMembershipRemovedBehindTheAppsBackClosesThatOrganizationsSocketOnlyAtTheNextRecheck()
    {
        using var app = RealtimeApplication.With(new() { ["WebSockets:RecheckInterval"] = "00:00:01" });
        var (org, _, member) = await CreateOrganizationAsync(app);
        await using var userSocket = await app.ConnectAsync(EchoConsumer.Path, member.Token);
        await using var events = await app.ConnectAsync(PresenceConsumer.PathFor(org), member.Token);
        await userSocket.ReceiveJsonAsync("welcome");
        await events.ReceiveJsonAsync("welcome");

        await ChangeDatabaseAsync(app, db => db.Memberships.Where(m => m.UserId == member.Id).ExecuteDeleteAsync());

        Assert.Equal((4003, "membership removed"), await events.ReceiveCloseAsync());
        Assert.True(await userSocket.ReceivesNothingWithinAsync(TimeSpan.FromSeconds(2.5)));
        await userSocket.SendJsonAsync(new { type = "ping" });
        await userSocket.ReceiveJsonAsync("pong");
    }

    [Fact]
    public async Task SocketsWhoseAuthorityHoldsStayOpenAcrossRechecks()
    {
        using var app = RealtimeApplication.With(new() { ["WebSockets:RecheckInterval"] = "00:00:01" });
        var (org, admin, member) = await CreateOrganizationAsync(app);
        await using var events = await app.ConnectAsync(PresenceConsumer.PathFor(org), member.Token);
        await using var adminEvents = await app.ConnectAsync(PresenceConsumer.PathFor(org), admin.Token);
        await events.ReceiveJsonAsync("welcome");
        await adminEvents.ReceiveJsonAsync("welcome");

        Assert.True(await events.ReceivesNothingWithinAsync(TimeSpan.FromSeconds(3.5)));
        await events.SendJsonAsync(new { type = "ping" });
        await events.ReceiveJsonAsync("pong");
        await adminEvents.SendJsonAsync(new { type = "ping" });
        await adminEvents.ReceiveJsonAsync("pong");
    }

    [Fact]
    public async Task ARecheckAsksTheDatabaseOnceABatchNotOnceASocket()
    {
        using var app = RealtimeApplication.With(new() { ["WebSockets:RecheckInterval"] = "1.00:00:00" });
        var sockets = new List<TestSocket>();
        for (var i = 0; i < 4; i++)
        {
            var (org, admin, member) = await CreateOrganizationAsync(app);
            foreach (var user in new[] { admin, member })
            {
                sockets.Add(await app.ConnectAsync(PresenceConsumer.PathFor(org), user.Token));
                sockets.Add(await app.ConnectAsync(EchoConsumer.Path, user.Token));
            }
        }

        foreach (var socket in sockets)
        {
            await socket.ReceiveJsonAsync("welcome");
        }

        var recheck = app.Services.GetServices<IHostedService>().OfType<ConnectionRecheck>().Single();
        var before = CountCommands(app);
        await recheck.RecheckAllAsync(CancellationToken.None);
        var commands = CountCommands(app) - before;

        // One read of the 8 users, one of their memberships, for 16 sockets.
        Assert.Equal(2, commands);
        foreach (var socket in sockets)
        {
            Assert.True(await socket.ReceivesNothingWithinAsync(TimeSpan.FromMilliseconds(50)));
            await socket.DisposeAsync();
        }
    }

    private static int CountCommands(RealtimeApplication app) =>
        app.Logs.GetSnapshot().Count(r => r.Category == DbLoggerCategory.Database.Command.Name && r.Id.Id == RelationalEventId.CommandExecuted.Id);

    private static async Task<(Guid Org, TestUser Admin, TestUser Member)> CreateOrganizationAsync(RealtimeApplication app)
    {
        var admin = await app.CreateSignedInUserAsync();
        var member = await app.CreateSignedInUserAsync();
        var org = await app.CreateOrganizationAsync(
            "auth-" + Guid.NewGuid().ToString("N")[..8], (admin.UserName, OrganizationRole.Admin), (member.UserName, OrganizationRole.Member));
        return (org.Id, admin, member);
    }

    private static async Task RemoveMemberAsync(RealtimeApplication app, TestUser admin, Guid org, TestUser member)
    {
        using var removed = await app.CreateClient(admin.Token).DeleteAsync($"/api/orgs/{org}/members/{member.Id}");
        Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
    }

    /// <summary>Changes the database directly, as a hand edit or another process would: no revocation is published.</summary>
    private static async Task ChangeDatabaseAsync(RealtimeApplication app, Func<AppDbContext, Task<int>> change)
    {
        await using var scope = app.Services.CreateAsyncScope();
        Assert.Equal(1, await change(scope.ServiceProvider.GetRequiredService<AppDbContext>()));
    }

    /// <summary>
    /// Once armed, lets the next membership read finish, then runs the removal before the request that read
    /// it goes on: the removal lands after the handshake's check and before the socket is registered.
    /// </summary>
    private sealed class RemovalAfterMembershipRead : DbCommandInterceptor, IDbConnectionInterceptor
    {
        private Func<Task>? _removal;
        private DbConnection? _reader;

        public bool Removed { get; private set; }

        public void Arm(Func<Task> removal) => Volatile.Write(ref _removal, removal);

        public override ValueTask<DbDataReader> ReaderExecutedAsync(
            DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
        {
            if (Volatile.Read(ref _removal) is not null && command.CommandText.Contains("\"Memberships\"", StringComparison.Ordinal))
            {
                Interlocked.CompareExchange(ref _reader, command.Connection, null);
            }

            return ValueTask.FromResult(result);
        }

        public async Task ConnectionClosedAsync(DbConnection connection, ConnectionEndEventData eventData)
        {
            // The connection is closed, so the read holds no lock the removal would wait for.
            if (connection == Volatile.Read(ref _reader) && Interlocked.Exchange(ref _removal, null) is { } removal)
            {
                await removal();
                Removed = true;
            }
        }
    }
}

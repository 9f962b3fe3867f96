using System.Net;
using System.Net.Http.Json;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.Users;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// Every failed sign-in must cost the same, so that response times do not tell which usernames exist.
/// Timing is for the benchmarks; here the same cost is shown structurally: the same SQL statements.
/// </summary>
public sealed class PasswordSignInTests
{
    [Fact]
    public async Task EveryFailedSignInRunsTheSameDatabaseStatementsAsAnUnknownUser()
    {
        // appsettings.json keeps EF's command log at Warning; the statements are what this test reads.
        using var app = RealtimeApplication.With(new() { ["Logging:LogLevel:Microsoft.EntityFrameworkCore.Database.Command"] = "Trace" });
        var (wrongPassword, _) = await app.CreateUniqueUserAsync();
        var (disabled, disabledPassword) = await app.CreateUniqueUserAsync();
        await app.ChangeUserAsync(disabled, (users, user) =>
        {
            user.IsDisabled = true;
            return users.UpdateAsync(user);
        });
        var (lockedOut, lockedOutPassword) = await app.CreateUniqueUserAsync();
        await app.ChangeUserAsync(lockedOut, (users, user) => users.SetLockoutEndDateAsync(user, DateTimeOffset.UtcNow.AddMinutes(5)));

        var unknown = await StatementsOfSignInAsync(app, "nobody-" + Guid.NewGuid().ToString("N")[..8], "some password");

        Assert.Equal(unknown, await StatementsOfSignInAsync(app, wrongPassword, "wrong password!!"));
        Assert.Equal(unknown, await StatementsOfSignInAsync(app, disabled, disabledPassword));
        Assert.Equal(unknown, await StatementsOfSignInAsync(app, lockedOut, lockedOutPassword));
        // The write that charges a failure is among them, for the unknown user too.
        Assert.Contains(unknown, sql => sql.StartsWith("UPDATE", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public async Task EveryFailedSignInWritesExactlyOneRowAsAWrongPasswordDoes()
    {
        // The same statement is not the same cost if one changes a row and another none: a database that
        // commits nothing skips the log flush a real write waits for.
        var writes = new RowsWritten();
        using var app = RealtimeApplication.With(new(), services: s => s.ConfigureDbContext<Data.AppDbContext>(o => o.AddInterceptors(writes)));
        var (wrongPassword, _) = await app.CreateUniqueUserAsync();
        var (disabled, disabledPassword) = await app.CreateUniqueUserAsync();
        await app.ChangeUserAsync(disabled, (users, user) =>
        {
            user.IsDisabled = true;
            return users.UpdateAsync(user);
        });
        var (lockedOut, lockedOutPassword) = await app.CreateUniqueUserAsync();
        await app.ChangeUserAsync(lockedOut, (users, user) => users.SetLockoutEndDateAsync(user, DateTimeOffset.UtcNow.AddMinutes(5)));

        foreach (var (userName, password) in new[]
        {
            ("nobody-" + Guid.NewGuid().ToString("N")[..8], "some password"),
            (wrongPassword, "wrong password!!"),
            (disabled, disabledPassword),
            (lockedOut, lockedOutPassword),
        })
        {
            writes.Clear();
            using var response = await SignInAsync(app, userName, password);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal([1], writes.Rows);
        }
    }

    [Fact]
    public async Task TheSignInDecoyIsNoOnesAccount()
    {
        using var app = new RealtimeApplication();
        var admin = await app.CreateSignedInUserAsync();
        var org = await app.CreateOrganizationAsync("decoy-" + Guid.NewGuid().ToString("N")[..8], (admin.UserName, OrganizationRole.Admin));

        using var added = await app.CreateClient(admin.Token).PostAsJsonAsync(
            $"/api/orgs/{org.Id}/members", new { userId = SignInDecoy.Id, role = "member" });

        Assert.Equal(HttpStatusCode.BadRequest, added.StatusCode);
        Assert.Contains("No user has this id.", await added.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task FourWrongPasswordsDoNotLockTheAccountAndTheFifthLocksItForFiveMinutes()
    {
        using var app = new RealtimeApplication();
        var (userName, password) = await app.CreateUniqueUserAsync();
        await FailAsync(app, userName, times: 4);
        Assert.Equal((4, null), await LockoutStateAsync(app, userName));

        await FailAsync(app, userName, times: 1);
        var (count, lockoutEnd) = await LockoutStateAsync(app, userName);
        using var refused = await SignInAsync(app, userName, password);

        Assert.Equal(0, count);
        Assert.NotNull(lockoutEnd);
        Assert.InRange(lockoutEnd.Value - DateTimeOffset.UtcNow, TimeSpan.FromMinutes(4.5), TimeSpan.FromMinutes(5));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal(("invalid_grant", "The username or password is incorrect."), await refused.ReadOAuthErrorAsync());
    }

    [Fact]
    public async Task FailuresWhileLockedOutNeitherCountNorExtendTheLockout()
    {
        using var app = new RealtimeApplication();
        var (userName, _) = await app.CreateUniqueUserAsync();
        await FailAsync(app, userName, times: 5);
        var locked = await LockoutStateAsync(app, userName);

        await FailAsync(app, userName, times: 5);

        Assert.NotNull(locked.LockoutEnd);
        Assert.Equal(locked, await LockoutStateAsync(app, userName));
    }

    [Fact]
    public async Task ASuccessfulSignInResetsTheFailureCount()
    {
        using var app = new RealtimeApplication();
        var (userName, password) = await app.CreateUniqueUserAsync();
        await FailAsync(app, userName, times: 4);

        await app.SignInAsync(userName, password);
        await FailAsync(app, userName, times: 4);

        Assert.Equal((4, null), await LockoutStateAsync(app, userName));
        await app.SignInAsync(userName, password);
    }

    /// <summary>The rows each write statement changed.</summary>
    private sealed class RowsWritten : DbCommandInterceptor
    {
        private readonly List<int> _rows = [];

        public IReadOnlyList<int> Rows
        {
            get
            {
                lock (_rows)
                {
                    return [.. _rows];
                }
            }
        }

        public void Clear()
        {
            lock (_rows)
            {
                _rows.Clear();
            }
        }

        public override ValueTask<int> NonQueryExecutedAsync(
            System.Data.Common.DbCommand command, CommandExecutedEventData eventData, int result, CancellationToken cancellationToken = default)
        {
            lock (_rows)
            {
                _rows.Add(result);
            }

            return ValueTask.FromResult(result);
        }
    }

    private static async Task<List<string>> StatementsOfSignInAsync(RealtimeApplication app, string userName, string password)
    {
        app.Logs.Clear();
        using var response = await SignInAsync(app, userName, password);
        Assert.Equal(("invalid_grant", "The username or password is incorrect."), await response.ReadOAuthErrorAsync());
        return app.Logs.GetSnapshot()
            .Where(record => record.Id.Id == RelationalEventId.CommandExecuted.Id)
            .Select(record => record.StructuredState!.Single(pair => pair.Key == "commandText").Value!)
            .ToList();
    }

    private static Task<HttpResponseMessage> SignInAsync(RealtimeApplication app, string userName, string password) =>
        app.PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", password));

    private static async Task FailAsync(RealtimeApplication app, string userName, int times)
    {
        for (var i = 0; i < times; i++)
        {
            using var response = await SignInAsync(app, userName, "wrong password " + i);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
    }

    private static async Task<(int AccessFailedCount, DateTimeOffset? LockoutEnd)> LockoutStateAsync(RealtimeApplication app, string userName)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var user = (await scope.ServiceProvider.GetRequiredService<UserManager<User>>().FindByNameAsync(userName))!;
        return (user.AccessFailedCount, user.LockoutEnd);
    }
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Hosting;

namespace Company.RealtimeApp1.Tests.Browser;

/// <summary>
/// The app in Development, as a browser sees it: real Kestrel on a loopback port of its own, migrated and
/// seeded (alice, bob, carol; <c>appsettings.Development.json</c>) into a SQLite file of its own, serving
/// the page at <c>/</c>. <see cref="RestartAsync"/> stops it and starts it again on the same port and database.
/// </summary>
public sealed class DevelopmentServer : IAsyncDisposable
{
    private readonly TestDatabase _database = TestDatabase.Shared();
    private readonly Dictionary<string, string?> _settings;
    private DevelopmentApp? _app;

    private DevelopmentServer(Dictionary<string, string?> settings)
    {
        _settings = settings;
        Port = FreePort();
        Address = new Uri($"http://127.0.0.1:{Port}/");
    }

    public int Port { get; }

    /// <summary>The page's address, and the API's.</summary>
    public Uri Address { get; }

    /// <summary>Starts the app with <paramref name="settings"/> on top of the Development ones.</summary>
    public static Task<DevelopmentServer> StartAsync(Dictionary<string, string?>? settings = null)
    {
        var server = new DevelopmentServer(settings ?? []);
        server.Start();
        return Task.FromResult(server);
    }

    /// <summary>Stops the app (its sockets close 1001), then starts it again on the same port and database.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        Start();
    }

    /// <summary>Stops the app; <see cref="RestartAsync"/> may follow.</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.DisposeAsync();
        }
    }

    public HttpClient CreateClient(string? accessToken = null)
    {
        var client = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(30) };
        if (accessToken is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }

        return client;
    }

    /// <summary>An access token of a seeded user (password <c>NAME-dev-password</c>).</summary>
    public async Task<string> SignInAsync(string userName)
    {
        using var client = CreateClient();
        using var response = await client.PostAsync("/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "password",
            ["username"] = userName,
            ["password"] = $"{userName}-dev-password",
        }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("access_token").GetString()!;
    }

    /// <summary>The user's id and their organizations' ids by slug, from <c>GET /me</c>.</summary>
    public async Task<(Guid UserId, IReadOnlyDictionary<string, Guid> Organizations)> MeAsync(string accessToken)
    {
        using var client = CreateClient(accessToken);
        using var body = JsonDocument.Parse(await client.GetStringAsync("/me"));
        var organizations = body.RootElement.GetProperty("organizations").EnumerateArray()
            .ToDictionary(o => o.GetProperty("slug").GetString()!, o => o.GetProperty("id").GetGuid());
        return (body.RootElement.GetProperty("id").GetGuid(), organizations);
    }

    /// <summary>As admin (alice): sends <paramref name="userId"/> a notification; returns its id.</summary>
    public async Task<long> NotifyAsync(string adminToken, Guid userId, string title, string body)
    {
        using var client = CreateClient(adminToken);
        using var response = await client.PostAsJsonAsync("/api/notifications", new { userId, title, body, data = new { source = "test" } });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await IdOfAsync(response);
    }

    /// <summary>As a member: publishes an event to the organization; returns its id.</summary>
    public async Task<long> PublishAsync(string memberToken, Guid orgId, string type, object data)
    {
        using var client = CreateClient(memberToken);
        using var response = await client.PostAsJsonAsync($"/api/orgs/{orgId}/events", new { type, data });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await IdOfAsync(response);
    }

    /// <summary>As an organization admin: removes <paramref name="userId"/> from <paramref name="orgId"/>.</summary>
    public async Task RemoveMemberAsync(string adminToken, Guid orgId, Guid userId)
    {
        using var client = CreateClient(adminToken);
        using var response = await client.DeleteAsync($"/api/orgs/{orgId}/members/{userId}");
        Assert.True(response.IsSuccessStatusCode, $"DELETE member answered {(int)response.StatusCode}");
    }

    /// <summary>Changes the password with <c>POST /me/password</c>: the caller gets a fresh pair, every other session of the user ends.</summary>
    public async Task ChangePasswordAsync(string accessToken, string currentPassword, string newPassword)
    {
        using var client = CreateClient(accessToken);
        using var response = await client.PostAsync("/me/password", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["current_password"] = currentPassword,
            ["new_password"] = newPassword,
        }));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _database.Dispose();
    }

    private void Start()
    {
        var app = new DevelopmentApp(Port, _database.ConnectionString, _settings);
        try
        {
            app.StartServer(); // Kestrel listens; the database is migrated and seeded
        }
        catch
        {
            app.Dispose();
            throw;
        }

        _app = app;
    }

    private static async Task<long> IdOfAsync(HttpResponseMessage response)
    {
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("id").GetInt64();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class DevelopmentApp : WebApplicationFactory<Program>
    {
        private readonly string _connectionString;
        private readonly Dictionary<string, string?> _settings;

        public DevelopmentApp(int port, string connectionString, Dictionary<string, string?> settings)
        {
            _connectionString = connectionString;
            _settings = settings;
            UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, port));
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Development");
            builder.UseSetting("ConnectionStrings:Default", _connectionString);
            builder.UseSetting("PasswordHashing:WorkFactor", "4");
            builder.UseSetting("RateLimiting:Token:PerClient", "100000");
            builder.UseSetting("RateLimiting:Token:PerUsername", "100000");
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
            // The tests' own token lifetime, whatever --token-minutes the app was generated with; a test may set its own.
            builder.UseSetting("Jwt:AccessTokenMinutes", "15");
            foreach (var (key, value) in _settings)
            {
                builder.UseSetting(key, value);
            }
        }

        // Stopping is left to Program's app.Run(), as in production (see RealtimeApplication).
        protected override IHost CreateHost(IHostBuilder builder) => new StoppedByTheApp(base.CreateHost(builder));
    }
}

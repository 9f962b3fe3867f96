using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.Realtime;
using Company.RealtimeApp1.Users;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// The app under test: a private in-memory SQLite database, a fast bcrypt work factor, a random
/// signing key and rate limits high enough not to interfere, unless a test sets its own.
/// </summary>
public sealed class RealtimeApplication : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly string _environment;
    private readonly Action<IServiceCollection>? _services;
    private readonly string _connectionString = $"Data Source=tests-{Guid.NewGuid():N};Mode=Memory;Cache=Shared";

    // Shared-cache in-memory SQLite lives as long as one connection to it is open.
    private readonly SqliteConnection _keepAlive;

    public RealtimeApplication() : this([], "Testing", null)
    {
    }

    private RealtimeApplication(Dictionary<string, string?> settings, string environment, Action<IServiceCollection>? services)
    {
        _settings = settings;
        _environment = environment;
        _services = services;
        _keepAlive = new SqliteConnection(_connectionString);
        _keepAlive.Open();

        // Real Kestrel on a free port: WebSocket tests need the wire, and HTTP tests lose nothing by it.
        UseKestrel(0);
    }

    /// <summary>The ws:// address of <paramref name="pathAndQuery"/> on the running server.</summary>
    public Uri WebSocketUri(string pathAndQuery)
    {
        var http = ServerAddress;
        return new Uri($"ws://{http.Authority}{pathAndQuery}");
    }

    /// <summary>The http:// address the server listens on.</summary>
    public Uri ServerAddress
    {
        get
        {
            StartServer();
            return ClientOptions.BaseAddress;
        }
    }

    /// <summary>Opens a WebSocket to <paramref name="pathAndQuery"/>; <paramref name="configure"/> sets headers or subprotocols.</summary>
    public async Task<TestSocket> ConnectAsync(string pathAndQuery, Action<System.Net.WebSockets.ClientWebSocketOptions>? configure = null)
    {
        var socket = new System.Net.WebSockets.ClientWebSocket();
        configure?.Invoke(socket.Options);
        using var timeout = new CancellationTokenSource(TestSocket.Timeout);
        await socket.ConnectAsync(WebSocketUri(pathAndQuery), timeout.Token);
        return new TestSocket(socket);
    }

    /// <summary>Opens a WebSocket authenticated with <paramref name="accessToken"/> in the Authorization header.</summary>
    public Task<TestSocket> ConnectAsync(string pathAndQuery, string accessToken) =>
        ConnectAsync(pathAndQuery, options => options.SetRequestHeader("Authorization", "Bearer " + accessToken));

    /// <summary>
    /// An app with its own database and these settings on top of the test defaults; <paramref name="services"/>
    /// replaces services (a fake clock, an interceptor) after the app registered its own.
    /// </summary>
    public static RealtimeApplication With(
        Dictionary<string, string?> settings, string environment = "Testing", Action<IServiceCollection>? services = null) =>
        new(settings, environment, services);

    public string SigningKey { get; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));

    /// <summary>Every log record the app wrote, at every level.</summary>
    public FakeLogCollector Logs => Services.GetFakeLogCollector();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(_environment);
        builder.UseSetting("ConnectionStrings:Default", _connectionString);
        builder.UseSetting("Jwt:SigningKey", SigningKey);
        builder.UseSetting("PasswordHashing:WorkFactor", "4");
        builder.UseSetting("RateLimiting:Token:PerClient", "100000");
        builder.UseSetting("RateLimiting:Token:PerUsername", "100000");
        // A short warning, so that with `--token-minutes 1` tokens a socket is not told at once that its
        // token is about to expire; the tests of the warning set their own.
        builder.UseSetting("WebSockets:ExpiryWarning", "00:00:05");
        // Everything is logged, so that a test can prove no credential is, at any level.
        builder.UseSetting("Logging:LogLevel:Default", "Trace");
        builder.UseSetting("Logging:LogLevel:Microsoft.AspNetCore", "Trace");
        builder.UseSetting("Logging:LogLevel:Microsoft.EntityFrameworkCore", "Trace");
        builder.UseSetting("Logging:LogLevel:Microsoft.EntityFrameworkCore.Database.Command", "Trace");
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddFakeLogging());
        builder.ConfigureTestServices(services => services.AddConsumer<EchoConsumer>(EchoConsumer.Path));
        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
    }

    /// <summary>A user with a unique name and a valid password, so tests sharing an app do not interfere.</summary>
    public async Task<(string UserName, string Password)> CreateUniqueUserAsync(params string[] roles)
    {
        var userName = $"user-{Guid.NewGuid():N}"[..21];
        const string password = "correct horse battery staple";
        await CreateUserAsync(userName, password, roles);
        return (userName, password);
    }

    public async Task<User> CreateUserAsync(string userName, string password, params string[] roles)
    {
        await using var scope = Services.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<UserAdministration>().CreateUserAsync(userName, password, roles);
        Assert.True(result.Succeeded, string.Join(" ", result.Errors.Select(e => e.Description)));
        return (await scope.ServiceProvider.GetRequiredService<UserManager<User>>().FindByNameAsync(userName))!;
    }

    public async Task<Organization> CreateOrganizationAsync(string slug, params (string UserName, OrganizationRole Role)[] members)
    {
        await using var scope = Services.CreateAsyncScope();
        var organizations = scope.ServiceProvider.GetRequiredService<OrganizationAdministration>();
        var created = await organizations.CreateOrganizationAsync(slug, null);
        Assert.Null(created.Error);
        foreach (var (userName, role) in members)
        {
            Assert.Null((await organizations.SetMembershipAsync(slug, userName, role)).Error);
        }

        return created.Value!;
    }

    /// <summary>Runs <paramref name="change"/> against the user through Identity's UserManager.</summary>
    public async Task ChangeUserAsync(string userName, Func<UserManager<User>, User, Task<IdentityResult>> change)
    {
        await using var scope = Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<User>>();
        var user = await users.FindByNameAsync(userName);
        Assert.NotNull(user);
        var result = await change(users, user);
        Assert.True(result.Succeeded, string.Join(" ", result.Errors.Select(e => e.Description)));
    }

    public static FormUrlEncodedContent Form(params (string Key, string Value)[] fields) =>
        new(fields.Select(f => KeyValuePair.Create(f.Key, f.Value)));

    public Task<HttpResponseMessage> PostTokenAsync(params (string Key, string Value)[] fields) =>
        CreateClient().PostAsync("/token", Form(fields));

    /// <summary>Signs in with the password grant and returns the token response.</summary>
    public async Task<TokenPair> SignInAsync(string userName, string password)
    {
        using var response = await PostTokenAsync(("grant_type", "password"), ("username", userName), ("password", password));
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<TokenPair>())!;
    }

    public HttpClient CreateClient(string accessToken)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", accessToken);
        return client;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _keepAlive.Dispose();
        }
    }
}

public static class HttpResponseExtensions
{
    /// <summary>Reads an RFC 6749 error body as (error, error_description).</summary>
    public static async Task<(string Error, string Description)> ReadOAuthErrorAsync(this HttpResponseMessage response)
    {
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (body.RootElement.GetProperty("error").GetString()!, body.RootElement.GetProperty("error_description").GetString()!);
    }
}

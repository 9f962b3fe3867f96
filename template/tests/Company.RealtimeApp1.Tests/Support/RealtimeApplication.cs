using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.Users;
using Company.RealtimeApp1.WebSockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// The app under test, as a host only: real Kestrel on a free port, a private database (<see cref="TestDatabase"/>),
/// a fast bcrypt work factor, a random signing key, rate limits high enough not to interfere (unless a
/// test sets its own), every log record collected, and the test-only <see cref="EchoConsumer"/>. Users,
/// organizations and sign-ins are in <see cref="TestUsers"/>, sockets in <see cref="TestSocket"/>, the
/// handshake's assertions in <see cref="Handshakes"/>.
/// </summary>
public sealed class RealtimeApplication : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly string _environment;
    private readonly Action<IServiceCollection>? _services;
    private readonly TestDatabase _database = TestDatabase.Private();

    // Outlives the app's services, so that what an app that never started logged can still be read.
    private readonly FakeLogCollector _startupLogs = new();

    public RealtimeApplication() : this([], "Testing", null)
    {
    }

    private RealtimeApplication(Dictionary<string, string?> settings, string environment, Action<IServiceCollection>? services)
    {
        _settings = settings;
        _environment = environment;
        _services = services;

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

    /// <summary>
    /// For an app whose settings are invalid: asserts that it did not start, and returns what it logged as critical
    /// (the lines a process prints before it exits 1), joined by newlines.
    /// </summary>
    public string StartupFailure()
    {
        Assert.NotNull(Record.Exception(() => Services));
        return string.Join('\n', _startupLogs.GetSnapshot().Where(record => record.Level == LogLevel.Critical).Select(record => record.Message));
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(_environment);
        builder.UseSetting("ConnectionStrings:Default", _database.ConnectionString);
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

        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Trace).AddFakeLogging()
            .AddProvider(new Microsoft.Extensions.Logging.Testing.FakeLoggerProvider(_startupLogs)));
        // The test-only consumers: echo (any user), presence (members of an organization) and the README's
        // announcements, so that the realtime layer's tests need no example consumer.
        builder.ConfigureTestServices(services => services
            .AddConsumer<EchoConsumer>(EchoConsumer.Pattern)
            .AddConsumer<PresenceConsumer>(PresenceConsumer.Path, endpoint => endpoint.RequireAuthorization(OrganizationPolicies.Member))
            .AddConsumer<Consumers.AnnouncementsConsumer>(AnnouncementsConsumerTests.Path));
        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
    }

    /// <summary>
    /// The factory stops the host itself while Program's <c>app.Run()</c>, hearing the stop, stops and disposes it
    /// too: every hosted service's StopAsync ran twice at once, one of them after the services were disposed
    /// (dotnet/aspnetcore#40271). Asking the app to stop leaves stopping to <c>app.Run()</c> alone, as in production.
    /// </summary>
    protected override IHost CreateHost(IHostBuilder builder) => new StoppedByTheApp(base.CreateHost(builder));

    public static FormUrlEncodedContent Form(params (string Key, string Value)[] fields) =>
        new(fields.Select(f => KeyValuePair.Create(f.Key, f.Value)));

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
            _database.Dispose();
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

/// <summary>A host whose StopAsync asks the app to stop and waits until it has (see <see cref="RealtimeApplication"/>).</summary>
internal sealed class StoppedByTheApp(IHost host) : IHost, IAsyncDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    // Taken now: a test may have stopped the app itself, and then its services are gone by the time the factory stops it.
    private readonly IHostApplicationLifetime _lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();

    public IServiceProvider Services => host.Services;

    public Task StartAsync(CancellationToken cancellationToken = default) => host.StartAsync(cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (_lifetime.ApplicationStopped.Register(() => stopped.TrySetResult()))
        {
            _lifetime.StopApplication();
            await stopped.Task.WaitAsync(StopTimeout, cancellationToken);
        }
    }

    public void Dispose() => host.Dispose();

    public ValueTask DisposeAsync()
    {
        if (host is IAsyncDisposable asyncDisposable)
        {
            return asyncDisposable.DisposeAsync();
        }

        host.Dispose();
        return ValueTask.CompletedTask;
    }
}

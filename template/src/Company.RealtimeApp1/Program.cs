using Company.RealtimeApp1;
using Company.RealtimeApp1.Auth;
using Company.RealtimeApp1.Consumers;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Diagnostics;
using Company.RealtimeApp1.Hosting;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.Users;
using Company.RealtimeApp1.WebSockets;

var builder = WebApplication.CreateBuilder(args);

// Logs: no credential reaches any log provider, at any level
builder.Logging.RedactCredentials();

// Telemetry: OpenTelemetry traces, metrics and logs over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set, credentials masked
builder.Services.AddTelemetry(builder.Configuration, builder.Environment.ApplicationName);

#if (UsePostgres)
// Data: EF Core over PostgreSQL, migrated at start-up
#else
// Data: EF Core over SQLite, migrated at start-up
#endif
builder.Services.AddDatabase();

// Users and organizations: ASP.NET Core Identity with bcrypt password hashing
builder.Services.AddUsers();
builder.Services.AddOrganizations();

// Auth: JWT bearer tokens issued by /token, rate limited
builder.Services.AddTokenAuthentication(builder.Environment);
builder.Services.AddAuthorization();

// WebSockets: authenticated WebSocket endpoints, and the consumers on them (Consumers/)
builder.Services.AddRealtime(realtime => realtime.SessionCookie = SessionCookie.Name);
builder.Services.AddConsumers();

// Behind a reverse proxy: the client's address and scheme from the proxies listed under ForwardedHeaders
builder.Services.AddTrustedProxies();

// Errors as JSON problem details, never a stack trace; OpenAPI description of the HTTP API
builder.Services.AddErrorResponses();
builder.Services.AddOpenApi(options => options.AddBearerSecurityScheme());

// `dotnet run -- users list`, `dotnet run -- --help`: administrative commands run and exit; the server never starts
if (CommandLine.IsCommand(args))
{
    Environment.ExitCode = await builder.RunCommandAsync(args);
    return;
}

var app = builder.Build();

// A missing or invalid setting, or a database that cannot be used, stops the app with one logged line naming it
if (!app.SettingsAreValid() || !await app.InitializeDatabaseAsync())
{
    Environment.ExitCode = 1;
    await app.DisposeAsync(); // writes the log out
    return;
}

app.UseTrustedProxies();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.UseNoStoreResponses();
app.UseRateLimiter();
app.UseWebSockets();
app.UseWebSocketOriginCheck();
app.UseAuthentication();
app.UseAuthorization();

if (app.Environment.IsDevelopment())
{
    // The HTTP API's OpenAPI document at /openapi/v1.json, the WebSocket endpoints' AsyncAPI document at /asyncapi/v1.json
    app.MapOpenApi();
    app.MapAsyncApi();
#if (examples)
    // The browser client and its demo page (wwwroot/wsauth.js, index.html) at /, in Development only
    app.UseDefaultFiles();
    app.UseStaticFiles();
    app.Lifetime.ApplicationStarted.Register(() => DevelopmentPage.Served(app.Logger, string.Join(", ", app.Urls.Select(url => url.TrimEnd('/') + "/"))));
#else
    // The browser client (wwwroot/wsauth.js) at /wsauth.js, in Development only
    app.UseStaticFiles();
#endif
}

app.MapTokenEndpoints();
app.MapSessionEndpoints();
app.MapMe();
app.MapOrganizations();
app.MapRealtime();
app.MapConsumerApis();
app.MapHealth();

app.Run();
#if (examples)

namespace Company.RealtimeApp1
{
    /// <summary>Where the development page is, in the start-up log.</summary>
    internal static partial class DevelopmentPage
    {
        [LoggerMessage(1, LogLevel.Information, "The development page (sign in, streams, who is online) is at {Addresses}; the seeded users are in the Seed section of appsettings.Development.json")]
        public static partial void Served(ILogger logger, string addresses);
    }
}
#endif

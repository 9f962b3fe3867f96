using System.Text;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.IdentityModel.Tokens;
using SignalRPeer;

var builder = WebApplication.CreateBuilder(args);

// Auth: the subject's own access tokens (same issuer, audience and HS256 key, passed in as Jwt__*), with
// the token on the query string for the hub, as the SignalR docs teach for WebSockets
var jwt = builder.Configuration.GetSection("Jwt");
builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer(options =>
{
    options.TokenValidationParameters = new TokenValidationParameters
    {
        ValidIssuer = jwt["Issuer"],
        ValidAudience = jwt["Audience"],
        IssuerSigningKey = new SymmetricSecurityKey(Encoding.UTF8.GetBytes(
            jwt["SigningKey"] ?? throw new InvalidOperationException("Set Jwt__SigningKey to the subject's signing key."))),
        ValidAlgorithms = [SecurityAlgorithms.HmacSha256],
        ClockSkew = TimeSpan.FromSeconds(30),
    };
    options.Events = new JwtBearerEvents
    {
        OnMessageReceived = context =>
        {
            var accessToken = context.Request.Query["access_token"];
            if (!string.IsNullOrEmpty(accessToken) && context.HttpContext.Request.Path.StartsWithSegments(RealtimeHub.Path))
            {
                context.Token = accessToken;
            }

            return Task.CompletedTask;
        },
    };
});
builder.Services.AddAuthorization();

// Realtime: one hub; notifications through Clients.User, organization events through Groups. With
// ConnectionStrings:Redis (the benchmark's cluster scenario), instances share groups and users over Redis,
// as the SignalR scale-out docs teach.
var signalR = builder.Services.AddSignalR();
if (builder.Configuration.GetConnectionString("Redis") is { Length: > 0 } redis)
{
    signalR.AddStackExchangeRedis(redis);
}
builder.Services.AddSingleton(OrganizationMembers.Load(builder.Configuration["Bench:MembershipFile"]));
builder.Services.AddSingleton<EventIds>();
builder.Services.AddSingleton(TimeProvider.System);

var app = builder.Build();

app.UseAuthentication();
app.UseAuthorization();

app.MapHub<RealtimeHub>(RealtimeHub.Path);
app.MapPublishing();
app.MapGet("/health", () => "Healthy");

app.Run();

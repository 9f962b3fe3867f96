using BarePeer;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Services.AddSingleton<Groups>();

var app = builder.Build();

app.UseWebSockets();

// /ws?org=ID or /ws?user=ID: anyone, no credential; a pre-serialised welcome, then echo and fan-out
app.Map("/ws", (HttpContext context, Groups groups) => BareSocket.RunAsync(context, groups));

// The publish paths take the frame itself as the body and hand the same bytes to every member
app.MapPost("/publish/org/{orgId}", (string orgId, HttpRequest request, Groups groups) => PublishAsync("org:" + orgId, request, groups));
app.MapPost("/publish/user/{userId}", (string userId, HttpRequest request, Groups groups) => PublishAsync("user:" + userId, request, groups));
app.MapGet("/health", () => "Healthy");

app.Run();

static async Task<IResult> PublishAsync(string group, HttpRequest request, Groups groups)
{
    using var body = new MemoryStream();
    await request.Body.CopyToAsync(body);
    groups.Send(group, body.ToArray());
    return Results.StatusCode(StatusCodes.Status202Accepted);
}

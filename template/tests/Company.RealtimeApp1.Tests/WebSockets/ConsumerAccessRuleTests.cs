using System.Net;
using Company.RealtimeApp1.WebSockets;

namespace Company.RealtimeApp1.Tests;

/// <summary>A consumer's access rule (<see cref="WebSocketConsumer{TResource}"/>) decides at the handshake; one that cannot answer says "try again", not "forbidden".</summary>
public sealed class ConsumerAccessRuleTests
{
    private const string Path = "/test/rule/{answer}";

    [Fact]
    public async Task ARuleThatFailsToAnswerTellsTheClientToTryAgainWith1013()
    {
        await using var app = RealtimeApplication.With([], services: services => services.AddConsumer<RuleConsumer>(Path));
        var user = await app.CreateSignedInUserAsync();

        await using var socket = await app.ConnectAsync("/test/rule/throw", user.Token);

        var message = await socket.ReceiveJsonAsync("auth");

        Assert.Equal(503, message.GetProperty("status").GetInt32());
        Assert.Equal("temporarily_unavailable", message.GetProperty("error").GetString());
        Assert.Equal("Access to this endpoint cannot be checked for a moment: connect again shortly.", message.GetProperty("detail").GetString());
        Assert.Equal((1013, "try again later"), await socket.ReceiveCloseAsync());
    }

    [Fact]
    public async Task ARuleThatFailsToAnswerIsAPlain503BeforeTheUpgradeUnderRejectWithHttpStatus()
    {
        await using var app = RealtimeApplication.With(new() { ["WebSockets:RejectWith"] = "HttpStatus" }, services: services => services.AddConsumer<RuleConsumer>(Path));
        var user = await app.CreateSignedInUserAsync();

        var (status, _) = await app.ConnectRefusedAsync("/test/rule/throw", options => options.SetRequestHeader("Authorization", $"Bearer {user.Token}"));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
    }

    [Fact]
    public async Task ARuleThatRefusesGivesItsOwnDetailAnd4003AndOneThatAllowsHandsItsResourceToTheConsumer()
    {
        await using var app = RealtimeApplication.With([], services: services => services.AddConsumer<RuleConsumer>(Path));
        var user = await app.CreateSignedInUserAsync();

        await using var refused = await app.ConnectAsync("/test/rule/no", user.Token);
        await refused.AssertRefusedAsync(403, "forbidden", "The rule says no.");
        await using var allowed = await app.JoinedAsync("/test/rule/yes", user.Token);
        await allowed.SendJsonAsync(new { type = "resource" });

        Assert.Equal("yes", (await allowed.ReceiveJsonAsync("resource")).GetProperty("answer").GetString());
    }

    /// <summary>Its rule answers as its route says: <c>yes</c> (the resource is the answer), <c>no</c>, or <c>throw</c>.</summary>
    private sealed class RuleConsumer : WebSocketConsumer<string>
    {
        protected override string ForbiddenDetail => "The rule says no.";

        protected override ValueTask<string?> AuthorizeAsync(ConsumerRequest request) => (request.RouteValues["answer"] as string) switch
        {
            "yes" => ValueTask.FromResult<string?>("yes"),
            "throw" => throw new InvalidOperationException("The rule's database is down."),
            _ => ValueTask.FromResult<string?>(null),
        };

        public override ValueTask<bool> OnMessageAsync(ConsumerContext context, IncomingMessage message)
        {
            context.Send(new { type = "resource", answer = Resource });
            return ValueTask.FromResult(message.Type == "resource");
        }
    }
}

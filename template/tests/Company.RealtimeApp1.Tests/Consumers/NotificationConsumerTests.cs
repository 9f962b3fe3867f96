using System.Net;
using System.Text.Json;
using Company.RealtimeApp1.Consumers;

namespace Company.RealtimeApp1.Tests;

public sealed class NotificationConsumerTests(RealtimeApplication app) : IClassFixture<RealtimeApplication>
{
    [Fact]
    public async Task AConnectedUserIsWelcomedWithTheirIdentity()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);

        await using var socket = await app.ConnectAsync("/ws/notifications", tokens.AccessToken);
        var welcome = await socket.ReceiveJsonAsync("welcome");

        Assert.Equal(userName, welcome.GetProperty("user").GetProperty("username").GetString());
        Assert.Equal(new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(tokens.AccessToken).Subject, welcome.GetProperty("user").GetProperty("id").GetString());
        Assert.Equal(32, welcome.GetProperty("connectionId").GetString()!.Length);
        Assert.Equal(
            new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(tokens.AccessToken).ValidTo,
            welcome.GetProperty("expiresAt").GetDateTimeOffset().UtcDateTime);
        Assert.Equal("type", welcome.EnumerateObject().First().Name);
    }

    [Fact]
    public async Task ANotificationReachesItsUserAndNoOneElse()
    {
        var alice = await app.CreateUniqueUserAsync();
        var bob = await app.CreateUniqueUserAsync();
        await using var aliceSocket = await ConnectAsync(alice);
        await using var bobSocket = await ConnectAsync(bob);
        var aliceId = Guid.Parse((await aliceSocket.ReceiveJsonAsync("welcome")).GetProperty("user").GetProperty("id").GetString()!);
        await bobSocket.ReceiveJsonAsync("welcome");

        var id = await app.Services.GetRequiredService<UserNotifications>().NotifyUserAsync(
            aliceId, "Hello", "World", JsonDocument.Parse("""{"k":1}""").RootElement);

        var notification = await aliceSocket.ReceiveJsonAsync("notification");
        Assert.Equal(id, notification.GetProperty("id").GetInt64());
        Assert.Equal("Hello", notification.GetProperty("title").GetString());
        Assert.Equal("World", notification.GetProperty("body").GetString());
        Assert.Equal(1, notification.GetProperty("data").GetProperty("k").GetInt32());
        Assert.True(await bobSocket.ReceivesNothingWithinAsync(TimeSpan.FromMilliseconds(300)));
    }

    [Fact]
    public async Task ConcurrentNotificationsTakeThePositionsOneToNAndArriveInThatOrder()
    {
        var user = await app.CreateUniqueUserAsync();
        await using var socket = await ConnectAsync(user);
        var userId = Guid.Parse((await socket.ReceiveJsonAsync("welcome")).GetProperty("user").GetProperty("id").GetString()!);
        var notifications = app.Services.GetRequiredService<UserNotifications>();

        // Sent together, so that they are stored in shared batches.
        var ids = await Task.WhenAll(Enumerable.Range(0, 80).Select(i => notifications.NotifyUserAsync(userId, $"n{i}", "")));

        Assert.Equal(Enumerable.Range(1, 80).Select(n => (long)n), ids.Order());
        Assert.Equal(ids.Order(), await socket.ReceiveIdsAsync("notification", ids.Length));
    }

    [Fact]
    public async Task AnOpenSocketKeepsItsUsersClaimsButNotTheTokenTheyWereReadFrom()
    {
        // A principal lives as long as its socket; the parsed token behind it would cost kilobytes per socket.
        var user = await app.CreateUniqueUserAsync();
        await using var socket = await ConnectAsync(user);
        var userId = Guid.Parse((await socket.ReceiveJsonAsync("welcome")).GetProperty("user").GetProperty("id").GetString()!);

        var connection = Assert.Single(app.Services.GetRequiredService<WebSockets.ConnectionRegistry>().ForUser(userId));

        var identity = Assert.IsType<Microsoft.IdentityModel.Tokens.CaseSensitiveClaimsIdentity>(Assert.Single(connection.User.Identities));
        Assert.Null(identity.SecurityToken);
        Assert.True(identity.IsAuthenticated);
        Assert.Equal(user.UserName, identity.Name);
        Assert.Equal(userId.ToString(), connection.User.FindFirst(Auth.TokenClaims.Subject)?.Value);
    }

    [Fact]
    public async Task PingIsAnsweredWithPongEchoingItsId()
    {
        await using var socket = await ConnectAsync(await app.CreateUniqueUserAsync());
        await socket.ReceiveJsonAsync("welcome");

        await socket.SendJsonAsync(new { type = "ping", id = 42 });
        var pong = await socket.ReceiveJsonAsync("pong");
        await socket.SendJsonAsync(new { type = "ping" });
        var bare = await socket.ReceiveJsonAsync("pong");

        Assert.Equal("""{"type":"pong","id":42}""", pong.GetRawText());
        Assert.Equal("""{"type":"pong"}""", bare.GetRawText());
    }

    [Theory]
    [InlineData("not json", "invalid_json", "The message is not valid JSON.")]
    [InlineData("[1,2]", "invalid_message", "A message must be a JSON object with a string 'type'.")]
    [InlineData("""{"id":1}""", "invalid_message", "A message must be a JSON object with a string 'type'.")]
    [InlineData("""{"type":7}""", "invalid_message", "A message must be a JSON object with a string 'type'.")]
    [InlineData("""{"type":"dance"}""", "unknown_type", "Unknown message type 'dance'.")]
    [InlineData("""{"type":"resume","since":"yesterday"}""", "invalid_message", "A 'resume' message needs 'since': the last message id seen, a number of 0 or more.")]
    public async Task ABadMessageGetsAnErrorAndTheSocketStaysOpen(string text, string code, string detail)
    {
        await using var socket = await ConnectAsync(await app.CreateUniqueUserAsync());
        await socket.ReceiveJsonAsync("welcome");

        await socket.SendTextAsync(text);
        var error = await socket.ReceiveJsonAsync("error");
        await socket.SendJsonAsync(new { type = "ping", id = "still-open" });

        Assert.Equal(code, error.GetProperty("code").GetString());
        Assert.Equal(detail, error.GetProperty("detail").GetString());
        Assert.Equal("still-open", (await socket.ReceiveJsonAsync("pong")).GetProperty("id").GetString());
    }

    [Fact]
    public async Task APlainHttpRequestToASocketEndpointIsBadRequest()
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        var tokens = await app.SignInAsync(userName, password);

        using var response = await app.CreateClient(tokens.AccessToken).GetAsync("/ws/notifications");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    private async Task<TestSocket> ConnectAsync((string UserName, string Password) user)
    {
        var tokens = await app.SignInAsync(user.UserName, user.Password);
        return await app.ConnectAsync("/ws/notifications", tokens.AccessToken);
    }
}

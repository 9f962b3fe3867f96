using System.Net;
using Microsoft.Extensions.Options;

namespace Company.RealtimeApp1.Tests;

public sealed class OriginTests(RealtimeApplication app) : IClassFixture<RealtimeApplication>
{
    private const string Path = EchoConsumer.Path;

    [Fact]
    public async Task AHandshakeFromAForeignOriginIsRefusedWith403BeforeTheUpgrade()
    {
        var (_, token) = await app.SignInNewUserAsync();

        var (status, _) = await app.ConnectRefusedAsync(Path, options =>
        {
            options.SetRequestHeader("Authorization", "Bearer " + token);
            options.SetRequestHeader("Origin", "https://evil.example");
        });

        Assert.Equal(HttpStatusCode.Forbidden, status);
    }

    [Fact]
    public async Task TheRefusalOfAForeignOriginIsAProblemDetailsBody()
    {
        var (_, token) = await app.SignInNewUserAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, Path);
        request.Headers.Add("Origin", "https://evil.example");
        request.Headers.Authorization = new("Bearer", token);

        using var response = await app.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("Origin not allowed", problem.RootElement.GetProperty("title").GetString());
        Assert.Equal("Pages on this origin may not open a WebSocket to this server.", problem.RootElement.GetProperty("detail").GetString());
    }

    [Theory]
    [InlineData("null")]
    [InlineData("https://localhost.evil.example")]
    [InlineData("https://app.example.com.evil.example")]
    public async Task OnlyExactOriginsAreAllowed(string origin)
    {
        using var allowing = RealtimeApplication.With(new() { ["WebSockets:AllowedOrigins:0"] = "https://app.example.com" });
        var (_, token) = await allowing.SignInNewUserAsync();

        var (status, _) = await allowing.ConnectRefusedAsync(Path, options =>
        {
            options.SetRequestHeader("Authorization", "Bearer " + token);
            options.SetRequestHeader("Origin", origin);
        });

        Assert.Equal(HttpStatusCode.Forbidden, status);
    }

    [Fact]
    public async Task AForeignOriginDoesNotSpendATicket()
    {
        var (_, token) = await app.SignInNewUserAsync();
        using var response = await app.CreateClient(token).PostAsync("/ws/ticket", null);
        var ticket = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("ticket").GetString();

        var (status, _) = await app.ConnectRefusedAsync($"{Path}?ticket={ticket}", options => options.SetRequestHeader("Origin", "https://evil.example"));
        await using var socket = await app.ConnectAsync($"{Path}?ticket={ticket}");

        Assert.Equal(HttpStatusCode.Forbidden, status);
        await socket.ReceiveJsonAsync("welcome");
    }

    [Fact]
    public async Task APageOnTheServersOwnOriginMayConnect()
    {
        var (_, token) = await app.SignInNewUserAsync();

        await using var socket = await app.ConnectAsync(Path, options =>
        {
            options.SetRequestHeader("Authorization", "Bearer " + token);
            options.SetRequestHeader("Origin", app.OwnOrigin());
        });

        await socket.ReceiveJsonAsync("welcome");
    }

    [Fact]
    public async Task AConfiguredOriginMayConnectWhateverItsCase()
    {
        using var allowing = RealtimeApplication.With(new() { ["WebSockets:AllowedOrigins:0"] = "https://app.example.com" });
        var (_, token) = await allowing.SignInNewUserAsync();

        await using var socket = await allowing.ConnectAsync(Path, options =>
        {
            options.SetRequestHeader("Authorization", "Bearer " + token);
            options.SetRequestHeader("Origin", "HTTPS://App.Example.COM");
        });

        await socket.ReceiveJsonAsync("welcome");
    }

    [Fact]
    public async Task HttpEndpointsDoNotCheckTheOrigin()
    {
        var (_, token) = await app.SignInNewUserAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/me");
        request.Headers.Add("Origin", "https://evil.example");
        request.Headers.Authorization = new("Bearer", token);

        using var response = await app.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public void AnAllowedOriginWithAPathStopsTheApp()
    {
        using var misconfigured = RealtimeApplication.With(new() { ["WebSockets:AllowedOrigins:0"] = "https://app.example.com/chat" });

        var failure = misconfigured.StartupFailure();

        Assert.Contains("'WebSockets:AllowedOrigins' has entries that are not origins ('https://app.example.com/chat')", failure);
    }
}

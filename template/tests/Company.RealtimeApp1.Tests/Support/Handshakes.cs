using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using Company.RealtimeApp1.Auth;
using Microsoft.AspNetCore.Identity;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Company.RealtimeApp1.Tests;

/// <summary>What the WebSocket handshake tests share: the failure contract's assertions and forged tokens.</summary>
public static class Handshakes
{
    public const string AuthSubProtocol = "wsauth.v1";
    public const string SessionCookie = "wsauth_session";
    public const string RefreshCookie = "wsauth_refresh";

    /// <summary>The <c>name=value</c> pair a response's <c>Set-Cookie</c> sets for this cookie (what a browser then sends back).</summary>
    public static string CookiePair(this HttpResponseMessage response, string name) =>
        Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith(name + "=", StringComparison.Ordinal)).Split(';')[0];

    /// <summary>
    /// Asserts the failure contract: exactly one <c>auth</c> message with these fields, in this order,
    /// then the close (4001 "unauthorized" or 4003 "forbidden"), which the client answers.
    /// </summary>
    public static async Task AssertRefusedAsync(this TestSocket socket, int status, string error, string detail)
    {
        var message = await socket.ReceiveJsonAsync("auth");
        var (code, reason) = await socket.ReceiveCloseAsync();
        using (var timeout = new CancellationTokenSource(TestSocket.Timeout))
        {
            await socket.Socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "", timeout.Token);
        }

        Assert.Equal(["type", "status", "error", "detail"], message.EnumerateObject().Select(p => p.Name));
        Assert.Equal(status, message.GetProperty("status").GetInt32());
        Assert.Equal(error, message.GetProperty("error").GetString());
        Assert.Equal(detail, message.GetProperty("detail").GetString());
        Assert.Equal(status == 401 ? (4001, "unauthorized") : (4003, "forbidden"), (code, reason));
    }

    /// <summary>Attempts a handshake that the server must refuse before the upgrade; returns its HTTP status and headers.</summary>
    public static async Task<(HttpStatusCode Status, IReadOnlyDictionary<string, IEnumerable<string>> Headers)> ConnectRefusedAsync(
        this RealtimeApplication app, string pathAndQuery, Action<ClientWebSocketOptions>? configure = null)
    {
        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        configure?.Invoke(socket.Options);
        using var timeout = new CancellationTokenSource(TestSocket.Timeout);

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(app.WebSocketUri(pathAndQuery), timeout.Token));

        return (socket.HttpStatusCode, socket.HttpResponseHeaders ?? new Dictionary<string, IEnumerable<string>>());
    }

    /// <summary>The server's own origin, as a browser on a page it served would send it.</summary>
    public static string OwnOrigin(this RealtimeApplication app) => app.ServerAddress.GetLeftPart(UriPartial.Authority);

    /// <summary>Signs in and returns a fresh access token for a new user, and the user's name.</summary>
    public static async Task<(string UserName, string AccessToken)> SignInNewUserAsync(this RealtimeApplication app)
    {
        var (userName, password) = await app.CreateUniqueUserAsync();
        return (userName, (await app.SignInAsync(userName, password)).AccessToken);
    }

    /// <summary>
    /// <paramref name="uri"/> sent as written: System.Uri would otherwise decode <c>%74</c> to <c>t</c> before the
    /// request is sent, and the server would never see the encoded name.
    /// </summary>
    public static Uri Verbatim(Uri uri) =>
        new(uri.OriginalString, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });

    /// <summary>A ticket for <c>?ticket=</c>, issued by <c>POST /ws/ticket</c> to the holder of <paramref name="accessToken"/>.</summary>
    public static async Task<string> IssueTicketAsync(this RealtimeApplication app, string accessToken)
    {
        using var response = await app.CreateClient(accessToken).PostAsync("/ws/ticket", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("ticket").GetString()!;
    }

    /// <summary>A token for <paramref name="userName"/> with everything right but the one thing a test changes.</summary>
    public static async Task<string> ForgeAsync(
        this RealtimeApplication app,
        string userName,
        string? key = null,
        DateTime? expires = null,
        string? audience = null,
        string? issuer = null,
        string algorithm = SecurityAlgorithms.HmacSha256)
    {
        var userId = Guid.Empty;
        string? stamp = null;
        await app.ChangeUserAsync(userName, (_, user) =>
        {
            userId = user.Id;
            stamp = user.SecurityStamp;
            return Task.FromResult(IdentityResult.Success);
        });

        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? "Company.RealtimeApp1",
            Audience = audience ?? "Company.RealtimeApp1",
            IssuedAt = (expires ?? now).AddMinutes(-15),
            NotBefore = (expires ?? now).AddMinutes(-15),
            Expires = expires ?? now.AddMinutes(15),
            SigningCredentials = new SigningCredentials(
                new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key ?? app.SigningKey)), algorithm),
            Claims = new Dictionary<string, object>
            {
                [TokenClaims.Subject] = userId.ToString(),
                [TokenClaims.Name] = userName,
                [TokenClaims.SecurityStamp] = TokenClaims.DigestSecurityStamp(stamp),
            },
        });
    }
}

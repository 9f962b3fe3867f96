using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// The README's nginx configuration, run by a real nginx in front of the app: the WebSocket upgrade passes, a page
/// served through the proxy (its origin has the proxy's port) is welcomed, another origin is refused, close codes reach
/// the client, and the client's address is forwarded to the per-client limit.
/// </summary>
public sealed class NginxProxyTests
{
    [Fact]
    public async Task ThroughTheReadmesNginxAPageOnTheProxysOriginIsWelcomedAndItsCloseCodesArrive()
    {
        using var app = RealtimeApplication.With(new() { ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1" });
        var (userName, token) = await app.SignInNewUserAsync();
        await using var nginx = await NginxServer.StartAsync(app.ServerAddress);

        await using var socket = await ConnectAsync(nginx, token, nginx.Origin);
        var welcome = await socket.ReceiveJsonAsync("welcome");
        Assert.Equal(userName, welcome.GetProperty("user").GetProperty("username").GetString());
        await socket.SendJsonAsync(new { type = "ping", id = 7 });
        Assert.Equal(7, (await socket.ReceiveJsonAsync("pong")).GetProperty("id").GetInt32());

        // A close the server starts crosses the proxy with its code and reason.
        await socket.Socket.SendAsync(new byte[] { 1 }, WebSocketMessageType.Binary, endOfMessage: true, CancellationToken.None);
        Assert.Equal((1003, "binary messages are not supported"), await socket.ReceiveCloseAsync());
    }

    [Fact]
    public async Task ThroughTheReadmesNginxAnotherOriginIsRefusedBeforeTheUpgrade()
    {
        using var app = RealtimeApplication.With(new() { ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1" });
        var (_, token) = await app.SignInNewUserAsync();
        await using var nginx = await NginxServer.StartAsync(app.ServerAddress);

        using var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        socket.Options.SetRequestHeader("Origin", "http://evil.example");
        using var timeout = new CancellationTokenSource(TestSocket.Timeout);

        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(SocketUri(nginx), timeout.Token));

        Assert.Equal(HttpStatusCode.Forbidden, socket.HttpStatusCode);
    }

    [Fact]
    public async Task ThroughTheReadmesNginxTheClientsAddressIsTheOneThePerClientLimitCounts()
    {
        using var app = RealtimeApplication.With(new()
        {
            ["ForwardedHeaders:KnownProxies:0"] = "127.0.0.1",
            ["RateLimiting:Token:PerClient"] = "1",
        });
        await using var nginx = await NginxServer.StartAsync(app.ServerAddress);

        // Two clients on addresses of their own (not the proxy's 127.0.0.1), sending no X-Forwarded-For: only the
        // README's proxy_set_header X-Forwarded-For tells the app who they are.
        var statuses = new List<HttpStatusCode>();
        foreach (var address in new[] { "127.0.0.2", "127.0.0.3", "127.0.0.2" })
        {
            using var client = ClientFrom(address, new Uri(nginx.Origin));
            using var response = await client.PostAsync("/token", RealtimeApplication.Form(("grant_type", "refresh_token"), ("refresh_token", "x")));
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.TooManyRequests], statuses);
    }

    /// <summary>An HTTP client whose connections come from <paramref name="localAddress"/> (a loopback address; macOS has only 127.0.0.1 unless aliased).</summary>
    private static HttpClient ClientFrom(string localAddress, Uri baseAddress)
    {
        using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            try
            {
                probe.Bind(new IPEndPoint(IPAddress.Parse(localAddress), 0));
            }
            catch (SocketException)
            {
                var message = $"This machine has no loopback address {localAddress} (macOS: sudo ifconfig lo0 alias {localAddress}).";
                if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
                {
                    Assert.Fail(message);
                }

                Assert.Skip(message);
            }
        }

        return new HttpClient(new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(localAddress), 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
        { BaseAddress = baseAddress };
    }

    private static async Task<TestSocket> ConnectAsync(NginxServer nginx, string token, string origin)
    {
        var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
        socket.Options.SetRequestHeader("Origin", origin);
        using var timeout = new CancellationTokenSource(TestSocket.Timeout);
        await socket.ConnectAsync(SocketUri(nginx), timeout.Token);
        return new TestSocket(socket);
    }

    private static Uri SocketUri(NginxServer nginx) => new($"ws://127.0.0.1:{nginx.Port}{EchoConsumer.Path}");
}

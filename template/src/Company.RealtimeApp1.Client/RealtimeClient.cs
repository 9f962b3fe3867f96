using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;

namespace Company.RealtimeApp1.Client;

/// <summary>
/// Opens the app's WebSocket endpoints as subscriptions that keep themselves open: they authenticate each handshake,
/// answer <c>auth.expiring</c> with a newer token in band, and reconnect with jittered back-off, resuming after the
/// last stored message they delivered.
/// </summary>
/// <example>
/// <code>
/// var client = new RealtimeClient(http, tokens.GetAccessTokenAsync);
/// await using var subscription = client.Connect("/ws/my-stream");
/// await foreach (var message in subscription.Messages.ReadAllAsync(cancellationToken)) { … }
/// </code>
/// </example>
public sealed class RealtimeClient
{
    private const string SubProtocol = "wsauth.v1";

    private readonly HttpClient _http;
    private readonly Func<CancellationToken, ValueTask<string?>> _accessToken;
    private readonly RealtimeClientOptions _options;

    /// <summary>A client of the app at <paramref name="http"/>'s <see cref="HttpClient.BaseAddress"/>.</summary>
    /// <param name="http">Its <see cref="HttpClient.BaseAddress"/> is the app's origin (<c>https://host:port/</c>); tickets are asked of it.</param>
    /// <param name="accessToken">
    /// The app's current access token, or null once it is signed out. The app keeps the tokens (sign-in and renewal
    /// with <c>/token</c>); the client asks at every handshake, on <c>auth.expiring</c>, and after a <c>4001</c>
    /// close. Asked then, a source should give a token that is not about to expire: after a <c>4001</c>, the same
    /// token again, like null, stops the subscription.
    /// </param>
    /// <param name="options">How sockets are opened and reconnected; the defaults when null.</param>
    public RealtimeClient(HttpClient http, Func<CancellationToken, ValueTask<string?>> accessToken, RealtimeClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(accessToken);
        if (http.BaseAddress is null)
        {
            throw new ArgumentException("The HttpClient needs a BaseAddress: the app's origin.", nameof(http));
        }

        _http = http;
        _accessToken = accessToken;
        _options = options ?? new RealtimeClientOptions();
    }

    /// <summary>
    /// Opens <paramref name="path"/> (e.g. <c>/ws/announcements/{orgId}</c>) and keeps it open until the subscription is
    /// disposed or the server refuses it for good.
    /// </summary>
    /// <param name="path">The endpoint's path, from the root of the app's origin.</param>
    /// <param name="since">Resume after this stored message's id from the first socket on (null: live only).</param>
    public RealtimeSubscription Connect(string path, long? since = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!path.StartsWith('/'))
        {
            throw new ArgumentException("The path starts at the app's root: '/ws/…'.", nameof(path));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(since ?? 0, nameof(since));
        var subscription = new RealtimeSubscription(this, _options, path, since);
        subscription.Start();
        return subscription;
    }

    internal ValueTask<string?> AccessTokenAsync(CancellationToken cancellationToken) => _accessToken(cancellationToken);

    /// <summary>Opens one socket on <paramref name="path"/>, authenticated with <paramref name="accessToken"/>.</summary>
    /// <exception cref="HandshakeFailedException">No socket: the close code a subscription acts on.</exception>
    internal async Task<ClientWebSocket> OpenSocketAsync(string path, string accessToken, long? since, CancellationToken cancellationToken)
    {
        var query = new List<string>();
        if (_options.Credential == HandshakeCredential.Ticket)
        {
            query.Add("ticket=" + Uri.EscapeDataString(await TicketAsync(accessToken, cancellationToken)));
        }

        if (since is { } after)
        {
            query.Add("since=" + after.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var socket = _options.CreateSocket();
        socket.Options.CollectHttpResponseDetails = true;
        if (_options.Credential == HandshakeCredential.AuthorizationHeader)
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + accessToken);
        }
        else if (_options.Credential == HandshakeCredential.SubProtocol)
        {
            socket.Options.AddSubProtocol(SubProtocol);
            socket.Options.AddSubProtocol("bearer." + accessToken);
        }

        try
        {
            await socket.ConnectAsync(SocketUri(path, query), cancellationToken);
            return socket;
        }
        catch (WebSocketException)
        {
            // WebSockets:RejectWith=HttpStatus refuses before the upgrade; .NET, unlike a browser, can read the status.
            var refusal = socket.HttpStatusCode switch
            {
                HttpStatusCode.Unauthorized => new HandshakeFailedException(4001, "unauthorized"),
                HttpStatusCode.Forbidden => new HandshakeFailedException(4003, "forbidden"),
                _ => new HandshakeFailedException(1006, "the connection failed"),
            };
            socket.Dispose();
            throw refusal;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>A single-use ticket from <c>POST /ws/ticket</c>.</summary>
    private async Task<string> TicketAsync(string accessToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/ws/ticket");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException)
        {
            throw new HandshakeFailedException(1006, "POST /ws/ticket failed");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new HandshakeFailedException(1006, "POST /ws/ticket timed out"); // HttpClient.Timeout
        }

        using (response)
        {
            var retryAfter = response.Headers.RetryAfter is { } header
                ? header.Delta ?? (header.Date - DateTimeOffset.UtcNow) ?? TimeSpan.Zero
                : TimeSpan.Zero;
            switch (response.StatusCode)
            {
                case HttpStatusCode.Unauthorized:
                    throw new HandshakeFailedException(4001, "unauthorized");
                case HttpStatusCode.TooManyRequests:
                    throw new HandshakeFailedException(4029, "too many tickets", retryAfter);
                case var status when !response.IsSuccessStatusCode:
                    throw new HandshakeFailedException(1013, $"POST /ws/ticket answered {(int)status}", retryAfter);
            }

            JsonElement body;
            try
            {
                body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            }
            catch (JsonException)
            {
                throw new HandshakeFailedException(1013, "POST /ws/ticket answered no JSON");
            }

            return body.ValueKind == JsonValueKind.Object && body.TryGetProperty("ticket", out var ticket) && ticket.GetString() is { } value
                ? value
                : throw new HandshakeFailedException(1013, "POST /ws/ticket answered no ticket");
        }
    }

    private Uri SocketUri(string path, List<string> query)
    {
        var uri = new UriBuilder(new Uri(_http.BaseAddress!, path));
        uri.Scheme = uri.Scheme == Uri.UriSchemeHttps ? "wss" : "ws";
        if (uri.Query.Length > 1)
        {
            query.Insert(0, uri.Query[1..]);
        }

        uri.Query = string.Join('&', query);
        return uri.Uri;
    }
}

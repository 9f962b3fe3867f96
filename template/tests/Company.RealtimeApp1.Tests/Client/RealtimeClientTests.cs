using System.Collections.Concurrent;
using System.Net.WebSockets;
using Company.RealtimeApp1.Client;
using Company.RealtimeApp1.Consumers;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.WebSockets;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// The .NET client against the app, as a MAUI or worker app would use it: each handshake credential, the in-band
/// refresh, resume after a server-side drop, back-off, and the closes it must not retry.
/// </summary>
public sealed class RealtimeClientTests
{
    private const string AnnouncementsPath = AnnouncementsConsumerTests.Path;

    [Theory]
    [InlineData(HandshakeCredential.Ticket)]
    [InlineData(HandshakeCredential.AuthorizationHeader)]
    [InlineData(HandshakeCredential.SubProtocol)]
    public async Task EachHandshakeCredentialIsWelcomedAsTheUserAndTheSocketSpeaksBothWays(HandshakeCredential credential)
    {
        await using var app = new RealtimeApplication();
        var user = await app.CreateSignedInUserAsync();
        var client = new TestClient(app, _ => user.Token, new RealtimeClientOptions { Credential = credential });

        await using var subscription = client.Connect(EchoConsumer.Path);
        var welcome = await NextAsync(subscription, "welcome");
        Assert.True(await subscription.SendAsync(new { type = "echo", text = "over the client" }));
        var echo = await NextAsync(subscription, "echo");

        Assert.Equal((user.Id.ToString(), user.UserName), (welcome.Json.GetProperty("user").GetProperty("id").GetString(), welcome.Json.GetProperty("user").GetProperty("username").GetString()));
        Assert.Equal("over the client", echo.Json.GetProperty("text").GetString());
        Assert.Equal(new SubscriptionStatus(SubscriptionState.Open), subscription.Status);
        Assert.Equal(1, client.Handshakes);
    }

    [Fact]
    public async Task AnExpiringTokenIsRefreshedInBandAndTheSocketOutlivesIt()
    {
        await using var app = RealtimeApplication.With(new() { ["WebSockets:ExpiryWarning"] = "00:00:02" });
        var user = await app.CreateSignedInUserAsync();
        var shortLived = await app.ForgeAsync(user.UserName, expires: DateTime.UtcNow.AddSeconds(4));
        var client = new TestClient(app, asked => asked == 1 ? shortLived : user.Token);

        await using var subscription = client.Connect(EchoConsumer.Path);
        await NextAsync(subscription, "welcome");
        var expiring = await NextAsync(subscription, "auth.expiring");
        var refreshed = await NextAsync(subscription, "auth.refreshed");
        // Past the first token's expiry, the socket it opened still answers.
        await Task.Delay(new JsonWebToken(shortLived).ValidTo.AddSeconds(1) - DateTime.UtcNow);
        Assert.True(await subscription.SendAsync(new { type = "ping", id = 7 }));
        var pong = await NextAsync(subscription, "pong");

        Assert.Equal(new JsonWebToken(shortLived).ValidTo, expiring.Json.GetProperty("expiresAt").GetDateTimeOffset().UtcDateTime);
        Assert.Equal(new JsonWebToken(user.Token).ValidTo, refreshed.Json.GetProperty("expiresAt").GetDateTimeOffset().UtcDateTime);
        Assert.Equal(7, pong.Json.GetProperty("id").GetInt32());
        Assert.Equal((1, 2), (client.Handshakes, client.TokensAsked));
        Assert.Equal(new SubscriptionStatus(SubscriptionState.Open), subscription.Status);
    }

    [Fact]
    public async Task AfterAServerSideDropItResumesWithSinceAndGetsEveryStoredMessageOnceInOrder()
    {
        await using var app = new RealtimeApplication();
        var (org, admin, member) = await OrganizationAsync(app);
        var path = AnnouncementsPath.Replace("{orgId}", org.ToString());
        await using var announcer = await app.JoinedAsync(path, admin.Token);
        var reconnecting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var resume = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var client = new TestClient(app, async asked =>
        {
            if (asked == 2)
            {
                // The second handshake waits until more was stored while the member was away.
                reconnecting.SetResult();
                await resume.Task;
            }

            return member.Token;
        });
        await using var subscription = client.Connect(path);
        var statuses = Statuses(subscription);
        var received = new List<ServerMessage> { await NextAsync(subscription, "welcome") };

        await AnnounceAsync(announcer, "one", "two");
        received.Add(await NextAsync(subscription, "announcement"));
        received.Add(await NextAsync(subscription, "announcement"));
        foreach (var connection in app.Services.GetRequiredService<ConnectionRegistry>().ForUser(member.Id))
        {
            connection.Close(CloseCodes.ServiceRestart, "messages were missed; reconnect with since");
        }

        await reconnecting.Task.WaitAsync(TestSocket.Timeout);
        await AnnounceAsync(announcer, "three", "four");
        resume.SetResult();
        for (var n = 0; n < 4; n++)
        {
            received.Add(await NextAsync(subscription));
        }

        await AnnounceAsync(announcer, "five");
        received.Add(await NextAsync(subscription, "announcement"));
        await subscription.DisposeAsync();

        Assert.Equal(
            ["welcome", "announcement", "announcement", "welcome", "announcement", "announcement", "resumed", "announcement"],
            received.Select(message => message.Type));
        var announcements = received.Where(message => message.Type == "announcement").ToList();
        Assert.Equal([1L, 2, 3, 4, 5], announcements.Select(message => message.Id));
        Assert.Equal(["one", "two", "three", "four", "five"], announcements.Select(message => message.Read<Announcement>().Text));
        Assert.True(received[6].Json.GetProperty("recovered").GetBoolean());
        Assert.Empty(await RemainingAsync(subscription));
        Assert.Equal(5, subscription.LastId);
        Assert.Equal(2, client.Handshakes);
        Assert.Equal(
            [SubscriptionState.Open, SubscriptionState.Reconnecting, SubscriptionState.Open, SubscriptionState.Closed],
            statuses.Select(status => status.State));
        Assert.Equal((1012, "messages were missed; reconnect with since"), (statuses.ElementAt(1).CloseCode, statuses.ElementAt(1).CloseReason));
        Assert.Equal(new SubscriptionStatus(SubscriptionState.Closed, 1000, "closed by the client"), subscription.Status);
    }

    [Fact]
    public async Task RefusedSocketsAreRetriedOneHandshakeEachWithJitteredDoublingDelays()
    {
        await using var app = RealtimeApplication.With(new() { ["WebSockets:MaxConnectionsPerUser"] = "1" });
        var user = await app.CreateSignedInUserAsync();
        var holder = await app.JoinedAsync(EchoConsumer.Path, user.Token);
        var options = new RealtimeClientOptions
        {
            Credential = HandshakeCredential.AuthorizationHeader,
            MinReconnectDelay = TimeSpan.FromMilliseconds(40),
            MaxReconnectDelay = TimeSpan.FromMilliseconds(320),
        };
        var client = new TestClient(app, _ => user.Token, options);

        await using var subscription = client.Connect(EchoConsumer.Path);
        var statuses = Statuses(subscription);
        await Eventually.HoldsAsync(() => statuses.Count(status => status.State == SubscriptionState.Reconnecting) >= 6);
        await holder.DisposeAsync();
        await NextAsync(subscription, "welcome");
        await subscription.DisposeAsync();

        var retries = statuses.Where(status => status.State == SubscriptionState.Reconnecting).ToList();
        Assert.All(retries, retry => Assert.Equal((4029, "too many connections"), (retry.CloseCode, retry.CloseReason)));
        for (var attempt = 0; attempt < retries.Count; attempt++)
        {
            var ceiling = Math.Min(320, 40 * Math.Pow(2, attempt));
            Assert.InRange(retries[attempt].RetryDelay!.Value.TotalMilliseconds, ceiling / 2, ceiling);
        }

        Assert.Equal(retries.Count + 1, client.Handshakes);
    }

    [Fact]
    public async Task AForbiddenEndpointEndsTheSubscriptionAfterOneHandshake()
    {
        await using var app = new RealtimeApplication();
        var (org, _, _) = await OrganizationAsync(app);
        var stranger = await app.CreateSignedInUserAsync();
        var client = new TestClient(app, _ => stranger.Token);

        await using var subscription = client.Connect(AnnouncementsPath.Replace("{orgId}", org.ToString()));
        var messages = await RemainingAsync(subscription);

        var refusal = Assert.Single(messages);
        Assert.Equal(("auth", 403, "forbidden"), (refusal.Type, refusal.Json.GetProperty("status").GetInt32(), refusal.Json.GetProperty("error").GetString()));
        Assert.Equal(new SubscriptionStatus(SubscriptionState.Closed, 4003, "forbidden"), subscription.Status);
        Assert.Equal((1, 1), (client.Handshakes, client.TokensAsked));
    }

    [Fact]
    public async Task AnExpiredTokenWithNoNewerOneEndsTheSubscriptionWith4001()
    {
        await using var app = RealtimeApplication.With(new() { ["WebSockets:ExpiryWarning"] = "00:00:01" });
        var user = await app.CreateSignedInUserAsync();
        var shortLived = await app.ForgeAsync(user.UserName, expires: DateTime.UtcNow.AddSeconds(3));
        var client = new TestClient(app, _ => shortLived);

        await using var subscription = client.Connect(EchoConsumer.Path);
        var messages = await RemainingAsync(subscription);

        Assert.Equal(["welcome", "auth.expiring"], messages.Select(message => message.Type));
        Assert.Equal(new SubscriptionStatus(SubscriptionState.Closed, 4001, "token expired"), subscription.Status);
        // Asked at the handshake, on auth.expiring, and after the 4001, when it had nothing newer.
        Assert.Equal((1, 3), (client.Handshakes, client.TokensAsked));
    }

    /// <summary>A <see cref="RealtimeClient"/> of <paramref name="app"/> that counts its handshakes and the tokens it asked for (the delegate gets the count, from 1).</summary>
    private sealed class TestClient(RealtimeApplication app, Func<int, Task<string>> token, RealtimeClientOptions? options = null)
    {
        private int _handshakes;
        private int _tokensAsked;

        public TestClient(RealtimeApplication app, Func<int, string> token, RealtimeClientOptions? options = null)
            : this(app, asked => Task.FromResult(token(asked)), options)
        {
        }

        public int Handshakes => Volatile.Read(ref _handshakes);

        public int TokensAsked => Volatile.Read(ref _tokensAsked);

        public RealtimeSubscription Connect(string path)
        {
            var counted = options ?? new RealtimeClientOptions();
            counted.CreateSocket = () =>
            {
                Interlocked.Increment(ref _handshakes);
                return new ClientWebSocket();
            };
            var client = new RealtimeClient(app.CreateClient(), async _ => await token(Interlocked.Increment(ref _tokensAsked)), counted);
            return client.Connect(path);
        }
    }

    /// <summary>The next message, which must be of <paramref name="expectedType"/> when one is given; presence is passed over.</summary>
    private static async Task<ServerMessage> NextAsync(RealtimeSubscription subscription, string? expectedType = null)
    {
        using var timeout = new CancellationTokenSource(TestSocket.Timeout);
        ServerMessage message;
        do
        {
            message = await subscription.Messages.ReadAsync(timeout.Token);
        }
        while (message.Type.StartsWith("presence", StringComparison.Ordinal));

        if (expectedType is not null)
        {
            Assert.Equal(expectedType, message.Type);
        }

        return message;
    }

    /// <summary>Every message until the subscription ends (presence passed over), which it must within the timeout.</summary>
    private static async Task<List<ServerMessage>> RemainingAsync(RealtimeSubscription subscription)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var messages = new List<ServerMessage>();
        await foreach (var message in subscription.Messages.ReadAllAsync(timeout.Token))
        {
            if (!message.Type.StartsWith("presence", StringComparison.Ordinal))
            {
                messages.Add(message);
            }
        }

        return messages;
    }

    /// <summary>Every status the subscription goes through from now on, in order.</summary>
    private static ConcurrentQueue<SubscriptionStatus> Statuses(RealtimeSubscription subscription)
    {
        var statuses = new ConcurrentQueue<SubscriptionStatus>();
        subscription.StatusChanged += (_, status) => statuses.Enqueue(status);
        // Called right after Connect, this is before the first handshake's end; should it not be, the status it led to counts.
        if (statuses.IsEmpty && subscription.Status.State != SubscriptionState.Connecting)
        {
            statuses.Enqueue(subscription.Status);
        }

        return statuses;
    }

    private static async Task AnnounceAsync(TestSocket announcer, params string[] texts)
    {
        foreach (var text in texts)
        {
            await announcer.SendJsonAsync(new { type = "announce", text });
            await announcer.ReceiveJsonAsync("announcement");
        }
    }

    private static async Task<(Guid Org, TestUser Admin, TestUser Member)> OrganizationAsync(RealtimeApplication app)
    {
        var admin = await app.CreateSignedInUserAsync();
        var member = await app.CreateSignedInUserAsync();
        var org = await app.CreateOrganizationAsync("client-" + Guid.NewGuid().ToString("N")[..8],
            (admin.UserName, OrganizationRole.Admin), (member.UserName, OrganizationRole.Member));
        return (org.Id, admin, member);
    }
}

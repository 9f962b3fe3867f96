using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Company.RealtimeApp1.Data;
using Company.RealtimeApp1.Organizations;
using Company.RealtimeApp1.WebSockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Company.RealtimeApp1.Tests;

/// <summary>
/// A stream is a log (SPEC §3 "Delivery"): a stored message's id is its position in its stream, from 1 with no
/// gap; a socket delivers a stream in id order, each message once, filling a gap from the store or closing 1012;
/// a resume is exact at the trim point and never sends an open socket what it already delivered.
/// </summary>
public sealed class StreamLogTests
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(500);

    [Fact]
    public async Task EachStreamNumbersItsOwnMessagesFromOne()
    {
        await using var app = new RealtimeApplication();
        var (acme, admin, _) = await OrganizationAsync(app);
        var (globex, _, _) = await OrganizationAsync(app);
        var alice = await app.CreateSignedInUserAsync();
        var bob = await app.CreateSignedInUserAsync();

        long[] ids =
        [
            await PublishAsync(app, admin, acme), await NotifyAsync(app, admin, alice), await PublishAsync(app, admin, acme),
            await NotifyAsync(app, admin, bob), await NotifyAsync(app, admin, alice), await PublishAsync(app, admin, acme),
        ];

        Assert.Equal([1, 1, 2, 1, 2, 3], ids);
        Assert.Equal(3, await HeadAsync(app, OrganizationStream.For(acme)));
        Assert.Equal(0, await HeadAsync(app, OrganizationStream.For(globex)));
    }

    [Fact]
    public async Task ConcurrentPublishersGetEveryPositionOnceWithNoGap()
    {
        await using var app = new RealtimeApplication();
        var (org, admin, member) = await OrganizationAsync(app);

        var ids = await Task.WhenAll(Enumerable.Range(0, 200).Select(_ => PublishAsync(app, member, org)));

        Assert.Equal(Enumerable.Range(1, 200).Select(n => (long)n), ids.Order());
    }

    [Fact]
    public async Task AResumeOnAnOpenSocketSendsNothingItAlreadyDelivered()
    {
        await using var app = new RealtimeApplication();
        var (org, admin, member) = await OrganizationAsync(app);
        await using var socket = await app.JoinedAsync($"/ws/events/{org}", member.Token);
        for (var n = 0; n < 3; n++)
        {
            await PublishAsync(app, admin, org);
        }

        Assert.Equal([1, 2, 3], await socket.ReceiveIdsAsync("org.event", 3));

        await socket.SendJsonAsync(new { type = "resume", since = 1 });

        Assert.True((await socket.ReceiveJsonAsync("resumed")).GetProperty("recovered").GetBoolean());
        Assert.True(await socket.ReceivesNothingWithinAsync(Quiet));
    }

    [Fact]
    public async Task AResumeOnAnOpenSocketSendsWhatWasStoredBeforeItJoinedOnce()
    {
        await using var app = new RealtimeApplication();
        var (org, admin, member) = await OrganizationAsync(app);
        await PublishAsync(app, admin, org);
        await PublishAsync(app, admin, org);
        await using var socket = await app.JoinedAsync($"/ws/events/{org}", member.Token);
        await PublishAsync(app, admin, org);
        Assert.Equal([3], await socket.ReceiveIdsAsync("org.event", 1));

        await socket.SendJsonAsync(new { type = "resume", since = 0 });
        Assert.Equal([1, 2], await socket.ReceiveIdsAsync("org.event", 2));
        Assert.True((await socket.ReceiveJsonAsync("resumed")).GetProperty("recovered").GetBoolean());
        await socket.SendJsonAsync(new { type = "resume", since = 0 });

        Assert.True((await socket.ReceiveJsonAsync("resumed")).GetProperty("recovered").GetBoolean());
        Assert.True(await socket.ReceivesNothingWithinAsync(Quiet));
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("1.5")]
    public async Task ASinceThatIsNotAnIdIsInvalidMessageAfterTheWelcomeAndTheSocketGoesOnLive(string since)
    {
        await using var app = new RealtimeApplication();
        var (org, admin, member) = await OrganizationAsync(app);
        await using var socket = await app.ConnectAsync($"/ws/events/{org}?since={since}", member.Token);

        await socket.ReceiveJsonAsync("welcome");
        var error = await socket.ReceiveJsonAsync("error");
        var id = await PublishAsync(app, admin, org);

        Assert.Equal("invalid_message", error.GetProperty("code").GetString());
        Assert.Equal("'since' is the last message id seen: an integer of 0 or more.", error.GetProperty("detail").GetString());
        Assert.Equal([id], await socket.ReceiveIdsAsync("org.event", 1));
    }

    [Fact]
    public async Task ASincePastTheStreamsNewestIdIsInvalidMessageAndTheSocketGoesOnLive()
    {
        await using var app = new RealtimeApplication();
        var (org, admin, member) = await OrganizationAsync(app);
        await PublishAsync(app, admin, org);
        await PublishAsync(app, admin, org);
        await using var socket = await app.ConnectAsync($"/ws/events/{org}?since=5", member.Token);

        await socket.ReceiveJsonAsync("welcome");
        var error = await socket.ReceiveJsonAsync("error");
        var id = await PublishAsync(app, admin, org);

        Assert.Equal("invalid_message", error.GetProperty("code").GetString());
        Assert.Equal("'since' is past the newest message (5): it is a message id from 0 to the stream's newest.", error.GetProperty("detail").GetString());
        Assert.Equal(3, id);
        Assert.Equal([3], await socket.ReceiveIdsAsync("org.event", 1));
    }

    [Theory]
    [InlineData(6, true)]
    [InlineData(5, false)]
    [InlineData(0, false)]
    [InlineData(10, true)]
    public async Task AResumeAtTheTrimPointIsExact(long since, bool recovered)
    {
        await using var app = RealtimeApplication.With(new() { ["WebSockets:OrgHistory"] = "4" });
        var (org, admin, member) = await OrganizationAsync(app);
        for (var n = 0; n < 10; n++)
        {
            await PublishAsync(app, admin, org);
        }

        await using var socket = await app.ConnectAsync($"/ws/events/{org}?since={since}", member.Token);
        await socket.ReceiveJsonAsync("welcome");
        var expected = Enumerable.Range(7, 4).Select(n => (long)n).Where(n => n > since).ToList();

        Assert.Equal(expected, await socket.ReceiveIdsAsync("org.event", expected.Count));
        Assert.Equal(recovered, (await socket.ReceiveJsonAsync("resumed")).GetProperty("recovered").GetBoolean());
    }

    [Fact]
    public async Task ResumesRacingTheTrimNeverClaimRecoveredOverAGap()
    {
        await using var app = RealtimeApplication.With(new() { ["WebSockets:OrgHistory"] = "3" });
        var (org, admin, member) = await OrganizationAsync(app);
        await PublishAsync(app, admin, org);
        using var publishing = new CancellationTokenSource();
        var publisher = Task.Run(async () =>
        {
            while (!publishing.IsCancellationRequested)
            {
                await PublishAsync(app, admin, org);
            }
        });

        var recoveredResumes = 0;
        for (var attempt = 0; attempt < 60; attempt++)
        {
            var since = Math.Max(0, await HeadAsync(app, OrganizationStream.For(org)) - 3);
            await using var socket = await app.ConnectAsync($"/ws/events/{org}?since={since}", member.Token);
            await socket.ReceiveJsonAsync("welcome");
            var ids = new List<long>();
            while (true)
            {
                var message = await socket.ReceiveJsonAsync();
                if (message.GetProperty("type").GetString() == "resumed")
                {
                    if (message.GetProperty("recovered").GetBoolean())
                    {
                        recoveredResumes++;
                        Assert.Equal(Enumerable.Range(0, ids.Count).Select(n => since + 1 + n), ids);
                    }

                    break;
                }

                ids.Add(message.GetProperty("id").GetInt64());
            }
        }

        await publishing.CancelAsync();
        await publisher;
        Assert.True(recoveredResumes > 0, "No resume was recovered: the test proved nothing.");
    }

    [Fact]
    public async Task AMessageTheBusLostIsReadFromTheStoreAndDeliveredInItsPlace()
    {
        await using var app = RealtimeApplication.With([], services: services => services.Replace(
            ServiceDescriptor.Singleton<IMessageBus>(provider => new LosingBus(provider.GetRequiredService<InMemoryMessageBus>(), lose: 2))));
        var (org, admin, member) = await OrganizationAsync(app);
        await using var socket = await app.JoinedAsync($"/ws/events/{org}", member.Token);

        for (var n = 0; n < 4; n++)
        {
            await PublishAsync(app, admin, org);
        }

        Assert.Equal([1, 2, 3, 4], await socket.ReceiveIdsAsync("org.event", 4));
        Assert.True(await socket.ReceivesNothingWithinAsync(Quiet));
    }

    [Fact]
    public async Task AGapTheStoreNoLongerHoldsClosesTheSocket1012SoItsClientResumes()
    {
        await using var app = RealtimeApplication.With([], services: services => services.Replace(
            ServiceDescriptor.Singleton<IMessageBus>(provider => new LosingBus(provider.GetRequiredService<InMemoryMessageBus>(), lose: 2))));
        var (org, admin, member) = await OrganizationAsync(app);
        await using var socket = await app.JoinedAsync($"/ws/events/{org}", member.Token);
        await PublishAsync(app, admin, org);
        await PublishAsync(app, admin, org);
        await DeleteStoredAsync(app, OrganizationStream.For(org), 2);

        await PublishAsync(app, admin, org);

        Assert.Equal([1], await socket.ReceiveIdsAsync("org.event", 1));
        Assert.Equal((1012, "messages were missed; reconnect with since"), await socket.ReceiveCloseAsync());
    }

    /// <summary>Loses the stored message at position <c>lose</c> of every stream, as a bus down for a moment would.</summary>
    private sealed class LosingBus(IMessageBus inner, long lose) : IMessageBus
    {
        public ValueTask PublishAsync(StreamMessage message, CancellationToken cancellationToken = default) =>
            message.Id == lose ? ValueTask.CompletedTask : inner.PublishAsync(message, cancellationToken);

        public ValueTask SubscribeAsync(StreamId stream, CancellationToken cancellationToken = default) => inner.SubscribeAsync(stream, cancellationToken);

        public ValueTask UnsubscribeAsync(StreamId stream, CancellationToken cancellationToken = default) => inner.UnsubscribeAsync(stream, cancellationToken);
    }

    private static async Task<(Guid Org, TestUser Admin, TestUser Member)> OrganizationAsync(RealtimeApplication app)
    {
        var admin = await app.CreateSignedInUserAsync("admin");
        var member = await app.CreateSignedInUserAsync();
        var org = await app.CreateOrganizationAsync("log-" + Guid.NewGuid().ToString("N")[..8],
            (admin.UserName, OrganizationRole.Admin), (member.UserName, OrganizationRole.Member));
        return (org.Id, admin, member);
    }

    private static async Task<long> PublishAsync(RealtimeApplication app, TestUser sender, Guid org)
    {
        using var response = await app.CreateClient(sender.Token).PostAsJsonAsync($"/api/orgs/{org}/events", new { type = "tick" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }

    private static async Task<long> NotifyAsync(RealtimeApplication app, TestUser admin, TestUser recipient)
    {
        using var response = await app.CreateClient(admin.Token).PostAsJsonAsync("/api/notifications", new { userId = recipient.Id, title = "t", body = "" });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt64();
    }

    private static async Task<long> HeadAsync(RealtimeApplication app, StreamId stream) =>
        await app.Services.GetRequiredService<StreamStore>().HeadAsync(stream, CancellationToken.None);

    private static async Task DeleteStoredAsync(RealtimeApplication app, StreamId stream, long position)
    {
        await using var scope = app.Services.CreateAsyncScope();
        var name = stream.Name;
        await scope.ServiceProvider.GetRequiredService<AppDbContext>().Set<StreamLogEntry>()
            .Where(e => e.Stream == name && e.Position == position).ExecuteDeleteAsync();
    }
}

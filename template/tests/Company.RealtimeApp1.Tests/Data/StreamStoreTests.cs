using System.Net;
using System.Net.Http.Json;
using Company.RealtimeApp1.WebSockets;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Company.RealtimeApp1.Tests;

/// <summary>The store answers once a message is stored: a bus that is slow to publish (a Redis that does not answer) holds nobody up.</summary>
public sealed class StreamStoreTests
{
    private static readonly TimeSpan Prompt = TimeSpan.FromSeconds(3);

    [Fact]
    public async Task APublishThatNeverFinishesDelaysNeitherTheAnswerNorTheNextMessage()
    {
        await using var app = RealtimeApplication.With([], services: services =>
            services.Replace(ServiceDescriptor.Singleton<IMessageBus, StalledBus>()));
        var admin = await app.CreateSignedInUserAsync("admin");
        var recipient = await app.CreateSignedInUserAsync();
        using var client = app.CreateClient(admin.Token);
        client.Timeout = Prompt;

        using var first = await client.PostAsJsonAsync("/api/notifications", new { userId = recipient.Id, title = "one", body = "" });
        using var second = await client.PostAsJsonAsync("/api/notifications", new { userId = recipient.Id, title = "two", body = "" });

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal(2, ((StalledBus)app.Services.GetRequiredService<IMessageBus>()).Published);
    }

    /// <summary>Takes every publish and never finishes one, as a Redis that stopped answering would.</summary>
    private sealed class StalledBus : IMessageBus
    {
        private int _published;

        public int Published => Volatile.Read(ref _published);

        public ValueTask PublishAsync(StreamMessage message, CancellationToken cancellationToken = default)
        {
            Interlocked.Increment(ref _published);
            return new ValueTask(new TaskCompletionSource().Task);
        }

        public ValueTask SubscribeAsync(StreamId stream, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask UnsubscribeAsync(StreamId stream, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
    }
}

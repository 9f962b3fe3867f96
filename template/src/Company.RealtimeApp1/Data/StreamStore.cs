using System.Threading.Channels;
using Company.RealtimeApp1.WebSockets;
using Microsoft.EntityFrameworkCore;

namespace Company.RealtimeApp1.Data;

/// <summary>
/// Stores stream messages (any stored-message entity of <typeparamref name="TContext"/>) and
/// then publishes them, through one writer. The writer commits whatever is waiting, up to 256, in one
/// transaction (a group commit: under load, a hundred messages cost one commit, not a hundred) and
/// starts the batch's publishes in id order, so that the live stream never shows a later id before an
/// earlier one, which a client resuming with <c>since</c> would otherwise skip. Callers wait for the
/// commit, not for the publish.
/// </summary>
/// <remarks>
/// The queue is bounded: when the database falls behind, callers wait for room (back-pressure) rather than
/// pile up in memory. A message whose caller gave up (its request aborted, its socket closed) before the
/// writer took it is dropped; once taken, it is stored and published like the others, and the caller just
/// stops waiting. At shutdown the writer finishes what it accepted after the server has stopped taking
/// requests (<see cref="StoppedAsync"/>), which is why stopping is not left to <see cref="BackgroundService.StopAsync"/>.
/// </remarks>
public sealed partial class StreamStore<TContext>(IServiceScopeFactory scopes, IMessageBus bus, ILogger<StreamStore<TContext>> logger)
    : BackgroundService, IHostedLifecycleService
    where TContext : DbContext
{
    private const int MaxBatch = 256;

    /// <summary>Four batches waiting: enough to keep the writer busy, little enough to bound what a stall holds.</summary>
    private const int Capacity = 4 * MaxBatch;

    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    /// <summary>
    /// Inserts <paramref name="entity"/>, then publishes the message <paramref name="toMessage"/> makes of
    /// it (its id is set by then). Completes once both are done; a publish that fails is logged, not
    /// thrown: the message is stored, and clients catch up on it when they resume.
    /// </summary>
    public async Task StoreAndPublishAsync<TEntity>(TEntity entity, Func<TEntity, StreamMessage> toMessage, CancellationToken cancellationToken = default)
        where TEntity : class
    {
        var pending = new Pending(entity, () => toMessage(entity), cancellationToken);
        try
        {
            await _queue.Writer.WriteAsync(pending, cancellationToken);
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException("The application is stopping; nothing more is stored.");
        }

        await pending.Done.Task.WaitAsync(cancellationToken);
    }

    // The host's token is not observed: what was accepted is stored, and the writer ends when the queue is completed.
    protected override Task ExecuteAsync(CancellationToken stoppingToken) => WriteAsync();

    private async Task WriteAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            batch.Clear();
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var pending))
            {
                if (pending.CancellationToken.IsCancellationRequested)
                {
                    pending.Done.TrySetCanceled(pending.CancellationToken);
                }
                else
                {
                    batch.Add(pending);
                }
            }

            try
            {
                var stored = await StoreAsync(batch);
                Publish(stored);
                foreach (var pending in stored)
                {
                    pending.Done.TrySetResult();
                }
            }
            catch (Exception exception)
            {
                // Whatever went wrong fails this batch's callers, not the writer: the next batch still goes.
                foreach (var pending in batch)
                {
                    pending.Done.TrySetException(exception);
                }
            }
        }
    }

    /// <summary>One transaction for the batch; if it fails, one per message, so one bad message fails alone.</summary>
    private async Task<IReadOnlyList<Pending>> StoreAsync(List<Pending> batch)
    {
        if (batch.Count == 0)
        {
            return batch;
        }

        try
        {
            await InsertAsync(batch);
            return batch;
        }
        catch (Exception exception) when (batch.Count > 1)
        {
            Log.BatchFailed(logger, exception, batch.Count);
        }
        catch (Exception exception)
        {
            batch[0].Done.TrySetException(exception);
            return [];
        }

        var stored = new List<Pending>(batch.Count);
        foreach (var pending in batch)
        {
            try
            {
                await InsertAsync([pending]);
                stored.Add(pending);
            }
            catch (Exception exception)
            {
                pending.Done.TrySetException(exception);
            }
        }

        return stored;
    }

    private async Task InsertAsync(IReadOnlyList<Pending> batch)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TContext>();
        // The entities are only ever added, never changed afterwards: there is nothing for SaveChanges to
        // detect, and scanning the batch for it is wasted (the pool restores the setting with the context).
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        foreach (var pending in batch)
        {
            db.Add(pending.Entity);
        }

        // The callers' tokens do not apply to a transaction shared with others.
        await db.SaveChangesAsync(CancellationToken.None);
    }

    /// <summary>
    /// Starts every publish in id order, and waits for none: a caller's message is stored, which is what it
    /// waits for, and a bus that is slow to publish (a Redis that does not answer) must hold up neither the
    /// callers nor the next batch. A publish that fails is logged; sockets that missed it catch up from the store.
    /// </summary>
    private void Publish(IReadOnlyList<Pending> stored)
    {
        foreach (var pending in stored)
        {
            try
            {
                var publish = bus.PublishAsync(pending.ToMessage());
                if (!publish.IsCompletedSuccessfully)
                {
                    _ = LogIfFailedAsync(publish, pending.Entity.GetType().Name);
                }
            }
            catch (Exception exception)
            {
                Log.PublishFailed(logger, exception, pending.Entity.GetType().Name);
            }
        }
    }

    private async Task LogIfFailedAsync(ValueTask publish, string messageKind)
    {
        try
        {
            await publish;
        }
        catch (Exception exception)
        {
            Log.PublishFailed(logger, exception, messageKind);
        }
    }

    /// <summary>Not yet: the server may still be finishing requests that store messages. See <see cref="StoppedAsync"/>.</summary>
    public override Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>After the server has drained its requests: store and publish what was accepted, accept nothing more.</summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        if (ExecuteTask is { } writer)
        {
            await writer.WaitAsync(cancellationToken);
        }

        await base.StopAsync(cancellationToken);
    }

    Task IHostedLifecycleService.StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    Task IHostedLifecycleService.StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private sealed record Pending(object Entity, Func<StreamMessage> ToMessage, CancellationToken CancellationToken)
    {
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Storing a batch of {Count} stream messages failed; storing them one by one")]
        public static partial void BatchFailed(ILogger logger, Exception exception, int count);

        [LoggerMessage(2, LogLevel.Error, "Publishing a stored {MessageKind} failed; clients get it when they resume")]
        public static partial void PublishFailed(ILogger logger, Exception exception, string messageKind);
    }
}

internal static class StreamStoreServiceCollectionExtensions
{
    /// <summary>The writer that stores stream messages in <typeparamref name="TContext"/> and then publishes them, run by the host.</summary>
    public static IServiceCollection AddStreamStore<TContext>(this IServiceCollection services)
        where TContext : DbContext
    {
        services.AddSingleton<StreamStore<TContext>>();
        services.AddHostedService(provider => provider.GetRequiredService<StreamStore<TContext>>());
        return services;
    }
}

using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Threading.Channels;
using Company.RealtimeApp1.WebSockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Company.RealtimeApp1.Data;

/// <summary>
/// The log of every stored stream (<see cref="StreamLogEntry"/>): <see cref="AppendAsync"/> stores a message at the
/// next position of its stream and then publishes it, <see cref="ReadAsync"/> and <see cref="HeadAsync"/> read
/// it back for sockets that resume or see a gap. Positions are taken from the stream's <see cref="StreamHead"/>
/// row in the transaction that stores the messages, so they are contiguous whichever instance stores them (the
/// row is locked until the commit: another instance's next position waits for it). One writer commits whatever
/// is waiting, up to 256, in one transaction (a group commit: under load, a hundred messages cost one commit,
/// not a hundred), and starts the batch's publishes in position order. Callers wait for the commit, not for the publish.
/// </summary>
/// <remarks>
/// The queue is bounded: when the database falls behind, callers wait for room (back-pressure) rather than
/// pile up in memory. A message whose caller gave up (its request aborted, its socket closed) before the
/// writer took it is dropped; once taken, it is stored and published like the others, and the caller just
/// stops waiting. At shutdown the writer finishes what it accepted after the server has stopped taking
/// requests (<see cref="StoppedAsync"/>), which is why stopping is not left to <see cref="BackgroundService.StopAsync"/>.
/// </remarks>
public sealed partial class StreamStore(
    IServiceScopeFactory scopes, IMessageBus bus, StreamPublisher publisher, TimeProvider time, ILogger<StreamStore> logger)
    : BackgroundService, IHostedLifecycleService, IStreamHistory
{
    /// <summary>The longest stream name the log keys on.</summary>
    public const int MaxStreamNameLength = 200;

    /// <summary>The longest message type the log keeps.</summary>
    public const int MaxTypeLength = 100;

    private const int MaxBatch = 256;

    /// <summary>Four batches waiting: enough to keep the writer busy, little enough to bound what a stall holds.</summary>
    private const int Capacity = 4 * MaxBatch;

    // Quoted as EF Core names them, for SQLite and PostgreSQL alike. "excluded" is the row the insert proposed.
    private const string TakePositions = """
        INSERT INTO "StreamHeads" ("Stream", "Head") VALUES (@stream, @count)
        ON CONFLICT ("Stream") DO UPDATE SET "Head" = "StreamHeads"."Head" + excluded."Head"
        RETURNING "Head"
        """;

    private readonly Channel<Pending> _queue = Channel.CreateBounded<Pending>(
        new BoundedChannelOptions(Capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });

    /// <summary>
    /// Stores <paramref name="content"/> as a message of type <paramref name="type"/> at the next position of
    /// <paramref name="stream"/>, then publishes it: <c>{"type","id",…content…,"createdAt"}</c>. Returns its
    /// position. Throws <see cref="MessageTooLargeException"/>, storing nothing, when the message could exceed
    /// <c>WebSockets:MaxMessageBytes</c> (SPEC §2: it would close every subscriber as a slow consumer). A publish
    /// that fails is logged, not thrown: the message is stored, and sockets see the gap and read it from here.
    /// </summary>
    public Task<long> AppendAsync<TContent>(
        StreamId stream, string type, TContent content, JsonTypeInfo<TContent> contentType, Guid? senderId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (stream.Name.Length > MaxStreamNameLength || type.Length > MaxTypeLength)
        {
            throw new ArgumentException($"A stored stream's name is at most {MaxStreamNameLength} characters, a message type at most {MaxTypeLength}.");
        }

        var frame = publisher.PrepareStored(type, content, contentType);
        return EnqueueAsync(new Pending(stream, frame, senderId, time.GetUtcNow(), cancellationToken));
    }

    /// <summary>As <see cref="AppendAsync{TContent}(StreamId, string, TContent, JsonTypeInfo{TContent}, Guid?, CancellationToken)"/>, serialized with the web defaults (camelCase).</summary>
    public Task<long> AppendAsync<TContent>(
        StreamId stream, string type, TContent content, Guid? senderId = null, CancellationToken cancellationToken = default) =>
        AppendAsync(stream, type, content, (JsonTypeInfo<TContent>)JsonSerializerOptions.Web.GetTypeInfo(typeof(TContent)), senderId, cancellationToken);

    private async Task<long> EnqueueAsync(Pending pending)
    {
        try
        {
            await _queue.Writer.WriteAsync(pending, pending.CancellationToken);
        }
        catch (ChannelClosedException)
        {
            throw new InvalidOperationException("The application is stopping; nothing more is stored.");
        }

        return await pending.Done.Task.WaitAsync(pending.CancellationToken);
    }

    public async IAsyncEnumerable<StreamMessage> ReadAsync(StreamId stream, long after, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var name = stream.Name;
        // One statement, so one snapshot: a trim can take rows away before it or after it, never from its middle.
        var entries = db.Set<StreamLogEntry>().AsNoTracking()
            .Where(e => e.Stream == name && e.Position > after)
            .OrderBy(e => e.Position)
            .AsAsyncEnumerable();
        await foreach (var entry in entries.WithCancellation(cancellationToken))
        {
            yield return StoredFrame.FromContent(entry.Type, entry.Content).ToMessage(stream, entry.Position, StoredMessage.Utc(entry.CreatedAt));
        }
    }

    public async ValueTask<long> HeadAsync(StreamId stream, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var name = stream.Name;
        return await db.Set<StreamHead>().Where(h => h.Stream == name).Select(h => (long?)h.Head).SingleOrDefaultAsync(cancellationToken) ?? 0;
    }

    public async ValueTask<IReadOnlyDictionary<StreamId, long>> HeadsAsync(IReadOnlyCollection<StreamId> streams, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var names = streams.Select(stream => stream.Name).ToList();
        var heads = await db.Set<StreamHead>().Where(h => names.Contains(h.Stream)).ToDictionaryAsync(h => h.Stream, h => h.Head, cancellationToken);
        return streams.ToDictionary(stream => stream, stream => heads.GetValueOrDefault(stream.Name));
    }

    /// <summary>Drops all but the newest <paramref name="keep"/> messages of <paramref name="stream"/>.</summary>
    public async Task TrimAsync(StreamId stream, int keep, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(keep);
        var through = await HeadAsync(stream, cancellationToken) - keep;
        if (through <= 0)
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        var name = stream.Name;
        await db.Set<StreamLogEntry>().Where(e => e.Stream == name && e.Position <= through).ExecuteDeleteAsync(cancellationToken);
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
                    pending.Done.TrySetResult(pending.Position);
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
        var db = scope.ServiceProvider.GetRequiredService<AppDbContext>();
        // The entries are only ever added, never changed afterwards: there is nothing for SaveChanges to
        // detect, and scanning the batch for it is wasted (the pool restores the setting with the context).
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        // The callers' tokens do not apply to a transaction shared with others.
        await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
        // Streams in name order: two instances' batches lock the head rows they share in the same order, never crosswise.
        foreach (var stream in batch.GroupBy(p => p.Stream.Name).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var position = await TakePositionsAsync(db, stream.Key, stream.Count()) - stream.Count();
            foreach (var pending in stream)
            {
                pending.Position = ++position;
                db.Add(new StreamLogEntry
                {
                    Stream = stream.Key,
                    Position = pending.Position,
                    Type = pending.Frame.Type,
                    Content = pending.Frame.Content,
                    SenderId = pending.SenderId,
                    CreatedAt = pending.CreatedAt.UtcDateTime,
                });
            }
        }

        await db.SaveChangesAsync(CancellationToken.None);
        await transaction.CommitAsync(CancellationToken.None);
    }

    /// <summary>Moves the stream's head <paramref name="count"/> positions on and returns the new head: the batch's positions end there.</summary>
    private static async Task<long> TakePositionsAsync(AppDbContext db, string stream, int count)
    {
        var connection = db.Database.GetDbConnection();
        await using var command = connection.CreateCommand();
        command.Transaction = db.Database.CurrentTransaction!.GetDbTransaction();
        command.CommandText = TakePositions;
        AddParameter(command, "@stream", stream);
        AddParameter(command, "@count", (long)count);
        return Convert.ToInt64(await command.ExecuteScalarAsync(CancellationToken.None), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void AddParameter(System.Data.Common.DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
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
                var publish = bus.PublishAsync(pending.Frame.ToMessage(pending.Stream, pending.Position, pending.CreatedAt));
                if (!publish.IsCompletedSuccessfully)
                {
                    _ = LogIfFailedAsync(publish, pending.Stream);
                }
            }
            catch (Exception exception)
            {
                Log.PublishFailed(logger, exception, pending.Stream.Name);
            }
        }
    }

    private async Task LogIfFailedAsync(ValueTask publish, StreamId stream)
    {
        try
        {
            await publish;
        }
        catch (Exception exception)
        {
            Log.PublishFailed(logger, exception, stream.Name);
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

    private sealed class Pending(StreamId stream, StoredFrame frame, Guid? senderId, DateTimeOffset createdAt, CancellationToken cancellationToken)
    {
        public StreamId Stream { get; } = stream;

        public StoredFrame Frame { get; } = frame;

        public Guid? SenderId { get; } = senderId;

        public DateTimeOffset CreatedAt { get; } = createdAt;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        /// <summary>Set in the transaction that stores it.</summary>
        public long Position { get; set; }

        public TaskCompletionSource<long> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private static partial class Log
    {
        [LoggerMessage(1, LogLevel.Warning, "Storing a batch of {Count} stream messages failed; storing them one by one")]
        public static partial void BatchFailed(ILogger logger, Exception exception, int count);

        [LoggerMessage(2, LogLevel.Error, "Publishing a stored message on stream {Stream} failed; sockets read it from the store when they see the gap")]
        public static partial void PublishFailed(ILogger logger, Exception exception, string stream);
    }
}

internal static class StreamStoreServiceCollectionExtensions
{
    /// <summary>The log of stored streams, whose writer stores messages and then publishes them, run by the host.</summary>
    public static IServiceCollection AddStreamStore(this IServiceCollection services)
    {
        services.AddSingleton<StreamStore>();
        services.AddHostedService(provider => provider.GetRequiredService<StreamStore>());
        return services;
    }
}

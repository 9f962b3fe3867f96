using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Company.RealtimeApp1.WebSockets.Redis;

/// <summary>
/// Presence records in Redis, per stream and instance: a hash <c>realtime:presence:&lt;stream&gt;:&lt;instance&gt;</c>
/// (user id → username) and a set <c>realtime:presence:&lt;stream&gt;</c> of the instances with one, both expiring
/// after <see cref="PresenceOptions.Lifetime"/> unless renewed. A user's first socket on a stream on an instance
/// costs one round trip of four commands (HSET, PEXPIRE, SADD, PEXPIRE), their last one HDEL; renewing costs three
/// per stream and instance, reading the others one SMEMBERS and one HGETALL per other instance.
/// </summary>
internal sealed class RedisPresenceStore(IConnectionMultiplexer redis, IOptions<PresenceOptions> options) : IPresenceStore
{
    private const string Prefix = "realtime:presence:";

    public async ValueTask SetAsync(string instance, StreamId stream, PresenceUser user, bool present, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        var records = RecordsOf(stream, instance);
        if (!present)
        {
            await db.HashDeleteAsync(records, user.Id.ToString("N"));
            return;
        }

        var batch = db.CreateBatch();
        var writes = new Task[]
        {
            batch.HashSetAsync(records, user.Id.ToString("N"), user.Username),
            batch.KeyExpireAsync(records, options.Value.Lifetime),
            batch.SetAddAsync(InstancesOf(stream), instance),
            batch.KeyExpireAsync(InstancesOf(stream), options.Value.Lifetime),
        };
        batch.Execute();
        await Task.WhenAll(writes);
    }

    public async ValueTask RenewAsync(string instance, IReadOnlyDictionary<StreamId, PresenceUser[]> users, bool rewrite, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        var batch = db.CreateBatch();
        var writes = new List<Task>();
        foreach (var (stream, streamUsers) in users)
        {
            var records = RecordsOf(stream, instance);
            if (rewrite)
            {
                writes.Add(batch.HashSetAsync(records, [.. streamUsers.Select(user => new HashEntry(user.Id.ToString("N"), user.Username))]));
            }

            writes.Add(batch.KeyExpireAsync(records, options.Value.Lifetime));
            writes.Add(batch.SetAddAsync(InstancesOf(stream), instance));
            writes.Add(batch.KeyExpireAsync(InstancesOf(stream), options.Value.Lifetime));
        }

        batch.Execute();
        await Task.WhenAll(writes);
    }

    public async ValueTask<IReadOnlyDictionary<string, PresenceUser[]>> ReadOthersAsync(string instance, StreamId stream, CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        var others = new Dictionary<string, PresenceUser[]>();
        foreach (var other in await db.SetMembersAsync(InstancesOf(stream)))
        {
            var name = other.ToString();
            if (name == instance)
            {
                continue;
            }

            var records = await db.HashGetAllAsync(RecordsOf(stream, name));
            if (records.Length == 0)
            {
                // That instance's records expired (it died, or left the stream): it is no longer counted.
                await db.SetRemoveAsync(InstancesOf(stream), other);
                continue;
            }

            others[name] = [.. records.Select(record => new PresenceUser(Guid.ParseExact(record.Name.ToString(), "N"), record.Value.ToString()))];
        }

        return others;
    }

    private static RedisKey InstancesOf(StreamId stream) => Prefix + stream.Name;

    private static RedisKey RecordsOf(StreamId stream, string instance) => Prefix + stream.Name + ":" + instance;
}

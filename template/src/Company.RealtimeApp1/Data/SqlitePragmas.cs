using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Company.RealtimeApp1.Data;

/// <summary>
/// Every message is stored before it is sent, so commit latency is delivery latency. Write-ahead
/// logging lets readers and the writer proceed together, and <c>synchronous=NORMAL</c> (safe with WAL:
/// no corruption, at worst the last commits lost on a power cut, never on a crash of the app) drops the
/// fsync from every commit.
/// </summary>
/// <remarks>
/// <c>journal_mode=WAL</c> is stored in the database file and <c>synchronous</c> belongs to the native
/// connection, which SQLite's pool keeps open across the logical opens EF Core makes; so both run once per
/// native connection, not on every open (a native connection whose PRAGMAs failed tries again next time).
/// </remarks>
internal sealed class SqlitePragmas : DbConnectionInterceptor
{
    private const string Pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;";

    private readonly ConditionalWeakTable<object, object> _configured = [];

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        if (!IsConfigured(connection))
        {
            using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            command.ExecuteNonQuery();
            MarkConfigured(connection);
        }
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (!IsConfigured(connection))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken);
            MarkConfigured(connection);
        }
    }

    private bool IsConfigured(DbConnection connection) =>
        connection is SqliteConnection { Handle: { } handle } && _configured.TryGetValue(handle, out _);

    private void MarkConfigured(DbConnection connection)
    {
        if (connection is SqliteConnection { Handle: { } handle })
        {
            _configured.TryAdd(handle, handle);
        }
    }
}

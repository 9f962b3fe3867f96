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
/// Both settings belong to the native connection, which SQLite's pool keeps open across the logical
/// opens EF Core makes, so they are applied once per native connection, not on every open.
/// </remarks>
internal sealed class SqlitePragmas : DbConnectionInterceptor
{
    private const string Pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;";

    private readonly ConditionalWeakTable<object, object> _configured = [];

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        if (IsFirstOpen(connection))
        {
            using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            command.ExecuteNonQuery();
        }
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (IsFirstOpen(connection))
        {
            await using var command = connection.CreateCommand();
            command.CommandText = Pragmas;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private bool IsFirstOpen(DbConnection connection) =>
        connection is not SqliteConnection { Handle: { } handle } || _configured.TryAdd(handle, handle);
}

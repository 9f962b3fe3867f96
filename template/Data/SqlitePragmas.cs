using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Company.RealtimeApp1.Data;

/// <summary>
/// Every message is stored before it is sent, so commit latency is delivery latency. Write-ahead
/// logging lets readers and the writer proceed together, and <c>synchronous=NORMAL</c> (safe with WAL:
/// no corruption, at worst the last commits lost on a power cut, never on a crash of the app) drops the
/// fsync from every commit.
/// </summary>
internal sealed class SqlitePragmas : DbConnectionInterceptor
{
    private const string Pragmas = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}

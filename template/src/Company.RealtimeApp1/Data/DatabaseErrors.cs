using Microsoft.EntityFrameworkCore;
#if (UsePostgres)
using Npgsql;
#else
using Microsoft.Data.Sqlite;
#endif

namespace Company.RealtimeApp1.Data;

/// <summary>What a failed write means, whichever database the app runs on.</summary>
public static class DatabaseErrors
{
#if (UsePostgres)
    /// <summary>The write named a row that does not exist (a foreign key violation): the caller's mistake, not a fault.</summary>
    public static bool IsMissingReference(Exception exception) =>
        exception is DbUpdateException { InnerException: PostgresException { SqlState: PostgresErrorCodes.ForeignKeyViolation } };
#else
    private const int ForeignKeyViolation = 787; // SQLITE_CONSTRAINT_FOREIGNKEY

    /// <summary>The write named a row that does not exist (a foreign key violation): the caller's mistake, not a fault.</summary>
    public static bool IsMissingReference(Exception exception) =>
        exception is DbUpdateException { InnerException: SqliteException { SqliteExtendedErrorCode: ForeignKeyViolation } };
#endif
}

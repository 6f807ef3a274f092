using Dapper;
using Npgsql;
using Slices.Api.Common.Http;

namespace Slices.Api.Common.Data;

public static class GuardedWrites
{
    /// <summary>
    /// Why an UPDATE or DELETE by id guarded by <see cref="ETags.Guard"/> touched no row: 412 while the row is still
    /// there (it has another version than <c>If-Match</c> asked for), 404 when it is not.
    /// <paramref name="table"/> is a table name from the calling slice's code, never user input.
    /// </summary>
    public static async Task<Failure> WhyMissedAsync(NpgsqlConnection conn, string table, long id, string what, CancellationToken ct, NpgsqlTransaction? tx = null) =>
        await conn.ExecuteScalarAsync<bool>(new CommandDefinition($"SELECT EXISTS (SELECT 1 FROM {table} WHERE id = @id)", new { id }, tx, cancellationToken: ct))
            ? Failure.PreconditionFailed()
            : Failure.NotFound(what);
}

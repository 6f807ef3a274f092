using Dapper;
using Npgsql;
using Slices.Api.Common.Http;

namespace Slices.Api.Common.Data;

public static class GuardedWrites
{
    // Deletes the row id of table while it still has the version `If-Match`
    // asked for (any, when null): true when it was deleted, otherwise 412 or 404 as WhyMissedAsync says.
    public static async Task<Result<bool>> DeleteAsync(NpgsqlConnection conn, string table, long id, long? ifMatch, string what, CancellationToken ct)
    {
        var deleted = await conn.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM {table} WHERE id = @id AND {ETags.Guard}", new { id, IfMatch = ifMatch }, cancellationToken: ct));
        return deleted == 1 ? true : await WhyMissedAsync(conn, table, id, what, ct);
    }

    // Why an UPDATE or DELETE by id guarded by Guard touched no row: 412 while the row is still
    // there (it has another version than `If-Match` asked for), 404 when it is not.
    // table is a table name from the calling slice's code, never user input.
    public static async Task<Failure> WhyMissedAsync(NpgsqlConnection conn, string table, long id, string what, CancellationToken ct, NpgsqlTransaction? tx = null) =>
        await conn.ExecuteScalarAsync<bool>(new CommandDefinition($"SELECT EXISTS (SELECT 1 FROM {table} WHERE id = @id)", new { id }, tx, cancellationToken: ct))
            ? Failure.PreconditionFailed()
            : Failure.NotFound(what);
}

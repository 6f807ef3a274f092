using Dapper;
using Npgsql;
using Slices.Api.Common.Http;

namespace Slices.Api.Common.Data;

public static class GuardedWrites
{
    /// <summary>
    /// Deletes the row <paramref name="id"/> of <paramref name="table"/> while it still has the version <c>If-Match</c>
    /// asked for (any, when null): true when it was deleted, otherwise 412 or 404 as <see cref="WhyMissedAsync"/> says.
    /// </summary>
    public static async Task<Result<bool>> DeleteAsync(NpgsqlConnection conn, string table, long id, long? ifMatch, string what, CancellationToken ct)
    {
        var deleted = await conn.ExecuteAsync(new CommandDefinition(
            $"DELETE FROM {table} WHERE id = @id AND {ETags.Guard}", new { id, IfMatch = ifMatch }, cancellationToken: ct));
        return deleted == 1 ? true : await WhyMissedAsync(conn, table, id, what, ct);
    }

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

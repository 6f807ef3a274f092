using Dapper;
using Npgsql;
using Slices.Api.Common.Http;

namespace Slices.Api.Common.Data;

public static class Db
{
    // Runs work in a transaction and runs it again (up to three times) when PostgreSQL reports
    // a serialization failure or a deadlock. The transaction commits when the work returns a value, and rolls back
    // when it returns a failed Result<T> — so a handler aborts after writes by returning the failure
    // (calling `tx.RollbackAsync` first is harmless).
    public static async Task<T> InTransactionAsync<T>(this NpgsqlDataSource db, Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            try
            {
                var result = await work(conn, tx);
                if (result is not IOutcome { IsSuccess: false })
                {
                    await tx.CommitAsync(ct);
                }

                // A failure is not committed: disposing the transaction rolls it back, unless the handler already did.
                return result;
            }
            catch (PostgresException e) when (PgErrors.IsTransient(e) && attempt < 3)
            {
                await Task.Delay(Random.Shared.Next(5, 50) * attempt, ct);
            }
        }
    }

    // Reads rows with an explicitly prepared statement: PostgreSQL parses it once per physical connection and Npgsql
    // keeps it across pool returns, so later calls only bind and execute. For fixed-text reads on hot routes; measured
    // in the benchmarks (README "Performance"): +25 % requests/s on GET /api/stages/{id}, because unprepared, the
    // parse and plan cost PostgreSQL as much CPU as the rest of the query (pgbench: 66k/s prepared, 34k/s unprepared).
    // Automatic preparation (Max Auto Prepare) stays off: see AddSlicesDatabase.
    // Hot writes prepare too where their plans cost (the holds' statements: README "A hold and its confirm"). sql may
    // hold several statements, sent in one round trip: the rows are those of the statement after `leading` ones.
    // Parameters carry their types (NpgsqlDbType where a value can be null), so that the prepared statement fits every
    // call.
    public static Task<IReadOnlyList<T>> QueryPreparedAsync<T>(this NpgsqlConnection conn, string sql, NpgsqlTransaction? tx, CancellationToken ct, params NpgsqlParameter[] parameters) =>
        conn.QueryPreparedAsync<T>(sql, leading: 0, tx, ct, parameters);

    public static async Task<IReadOnlyList<T>> QueryPreparedAsync<T>(
        this NpgsqlConnection conn, string sql, int leading, NpgsqlTransaction? tx, CancellationToken ct, params NpgsqlParameter[] parameters)
    {
        await using var cmd = new NpgsqlCommand(sql, conn, tx);
        cmd.Parameters.AddRange(parameters);
        await cmd.PrepareAsync(ct);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        for (var i = 0; i < leading; i++)
        {
            await reader.NextResultAsync(ct);
        }

        var parse = reader.GetRowParser<T>();
        var rows = new List<T>();
        while (await reader.ReadAsync(ct))
        {
            rows.Add(parse(reader));
        }

        return rows;
    }
}

using Npgsql;
using Slices.Api.Common.Http;

namespace Slices.Api.Common.Data;

public static class Db
{
    /// <summary>
    /// Runs <paramref name="work"/> in a transaction, committed when it returns, and runs it again (up to three
    /// times) when PostgreSQL reports a serialization failure or a deadlock. To abort with a failure after writes,
    /// the work calls <c>tx.RollbackAsync</c> and returns the failed <see cref="Result{T}"/>.
    /// </summary>
    public static async Task<T> InTransactionAsync<T>(this NpgsqlDataSource db, Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            try
            {
                var result = await work(conn, tx);
                try
                {
                    await tx.CommitAsync(ct);
                }
                catch (InvalidOperationException) when (result is IOutcome { IsSuccess: false })
                {
                    // The handler rolled back itself to abort with this failure. Npgsql 10 keeps tx.Connection after
                    // a rollback and has no public "completed" flag to ask first; a failure that did not roll back
                    // (a revoked session, say) is committed above like any other answer.
                }

                return result;
            }
            catch (PostgresException e) when (PgErrors.IsTransient(e) && attempt < 3)
            {
                await Task.Delay(Random.Shared.Next(5, 50) * attempt, ct);
            }
        }
    }
}

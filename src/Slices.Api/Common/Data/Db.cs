using Npgsql;

namespace Slices.Api.Common.Data;

public static class Db
{
    /// <summary>
    /// Runs <paramref name="work"/> in a transaction, committed when it returns, and runs it again (up to three
    /// times) when PostgreSQL reports a serialization failure or a deadlock.
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
                // A handler that decided to roll back has completed the transaction already (Npgsql then clears Connection).
                if (tx.Connection is not null)
                {
                    await tx.CommitAsync(ct);
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

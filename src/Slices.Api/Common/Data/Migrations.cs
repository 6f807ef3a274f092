using DbUp;
using Npgsql;

namespace Slices.Api.Common.Data;

public static class Migrations
{
    // Any constant works; it only has to be the same for every instance of the service.
    private const long AdvisoryLockKey = 0x5_11CE5;

    // Applies the embedded `db/*.sql` scripts in order, each in its own transaction, once per database.
    public static async Task ApplyAsync(string connectionString, ILogger logger, CancellationToken ct = default)
    {
        // Several instances may start together against one database: only one of them migrates at a time.
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(ct);
        await using (var lockCmd = new NpgsqlCommand($"SELECT pg_advisory_lock({AdvisoryLockKey})", conn))
        {
            await lockCmd.ExecuteNonQueryAsync(ct);
        }

        try
        {
            var result = DeployChanges.To
                .PostgresqlDatabase(connectionString)
                .WithScriptsEmbeddedInAssembly(typeof(Migrations).Assembly, name => name.StartsWith("db.", StringComparison.Ordinal))
                .WithTransactionPerScript()
                .LogToNowhere()
                .Build()
                .PerformUpgrade();
            if (!result.Successful)
            {
                throw new InvalidOperationException($"Migration {result.ErrorScript?.Name} failed: {result.Error.Message}", result.Error);
            }

            foreach (var script in result.Scripts)
            {
                logger.LogInformation("Applied migration {Script}", script.Name);
            }
        }
        finally
        {
            await using var unlock = new NpgsqlCommand($"SELECT pg_advisory_unlock({AdvisoryLockKey})", conn);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }
}

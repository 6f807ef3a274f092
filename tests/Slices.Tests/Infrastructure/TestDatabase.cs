using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Slices.Api.Common.Data;

namespace Slices.Tests.Infrastructure;

// A private PostgreSQL cluster for one test run (temp dir, free port, fsync off), removed afterwards; or the
// server named by TEST_DATABASE_URL. Clusters left behind by a killed run are stopped and removed first.
public sealed class TestDatabase : IAsyncDisposable
{
    private const string Prefix = "slices-tests-";
    private readonly EmbeddedPostgres? cluster;

    private TestDatabase(string connectionString, EmbeddedPostgres? cluster)
    {
        ConnectionString = connectionString;
        this.cluster = cluster;
    }

    public string ConnectionString { get; }

    public static async Task<TestDatabase> StartAsync()
    {
        if (Environment.GetEnvironmentVariable("TEST_DATABASE_URL") is { Length: > 0 } url)
        {
            return new TestDatabase(url, null);
        }

        await RemoveOrphansAsync();
        var dir = Path.Combine(Path.GetTempPath(), $"{Prefix}{Environment.ProcessId}-{Guid.NewGuid():N}");
        var pg = await EmbeddedPostgres.StartAsync(Path.Combine(dir, "data"), "slices_tests", NullLogger.Instance, durable: false);
        return new TestDatabase(pg.ConnectionString("slices_tests"), pg);
    }

    // A second database on the same server, for tests that need their own (e.g. two service instances).
    public async Task<string> CreateDatabaseAsync(string name)
    {
        var csb = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionString);
        var target = csb.Database;
        csb.Database = "postgres";
        await using var conn = new Npgsql.NpgsqlConnection(csb.ConnectionString);
        await conn.OpenAsync();
        await using var cmd = new Npgsql.NpgsqlCommand($"CREATE DATABASE \"{name}\"", conn);
        await cmd.ExecuteNonQueryAsync();
        csb.Database = name;
        _ = target;
        return csb.ConnectionString;
    }

    // How many deadlocks PostgreSQL detected in database. A server process reports its statistics when it ends, so
    // whatever else is still connected (a stopped host's idle pool) is ended first, and waited for.
    public static async Task<long> DeadlocksAsync(string database, CancellationToken ct)
    {
        await using var conn = new Npgsql.NpgsqlConnection(database);
        await conn.OpenAsync(ct);
        await using var others = new Npgsql.NpgsqlCommand(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()", conn);
        while ((long)(await others.ExecuteScalarAsync(ct))! > 0)
        {
            await Task.Delay(50, ct);
        }

        await using var deadlocks = new Npgsql.NpgsqlCommand("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()", conn);
        return (long)(await deadlocks.ExecuteScalarAsync(ct))!;
    }

    // The server process of the one LISTEN connection on database (an instance's PgListener, on a database of its own),
    // once it listens and unless it is `replacing`. Npgsql sends each statement of a command alone, so a connection that
    // LISTENs on several channels shows its last LISTEN; idle: the LISTENs have committed and are heard.
    public static async Task<int> ListenerAsync(string database, int? replacing = null)
    {
        int[] pids = [];
        await Slices.Tests.Work.Eventually.HoldsAsync(
            async () => (pids = await ListenersAsync(database)).Length > 0 && !pids.Contains(replacing ?? 0),
            () => $"no new LISTEN connection on the database: [{string.Join(", ", pids)}]", seconds: 5);
        return Assert.Single(pids);
    }

    public static async Task<int[]> ListenersAsync(string database)
    {
        const string listening = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND state = 'idle' AND query LIKE 'LISTEN %'";
        await using var conn = new Npgsql.NpgsqlConnection(database);
        return [.. await conn.QueryAsync<int>(new CommandDefinition(listening, cancellationToken: TestContext.Current.CancellationToken))];
    }

    public async ValueTask DisposeAsync()
    {
        if (cluster is not null)
        {
            await cluster.StopAsync();
            TryDelete(Path.GetDirectoryName(cluster.DataDirectory)!);
        }
    }

    private static async Task RemoveOrphansAsync()
    {
        foreach (var dir in Directory.GetDirectories(Path.GetTempPath(), Prefix + "*"))
        {
            var name = Path.GetFileName(dir)[Prefix.Length..];
            if (!int.TryParse(name.Split('-')[0], out var pid) || ProcessAlive(pid))
            {
                continue;
            }

            var data = Path.Combine(dir, "data");
            if (File.Exists(Path.Combine(data, "postmaster.pid")))
            {
                await EmbeddedPostgres.StopOrphanAsync(data);
            }

            TryDelete(dir);
        }
    }

    private static bool ProcessAlive(int pid)
    {
        try
        {
            using var p = System.Diagnostics.Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a later run removes what is left.
        }
        catch (UnauthorizedAccessException)
        {
            // Same.
        }
    }
}

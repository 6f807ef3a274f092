using Alba;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Slices.Api.Common.Data;
using Slices.Tests.Work;

namespace Slices.Tests.Infrastructure;

// A primary and a real streaming standby of it (pg_basebackup -R), each a private cluster from the machine's
// binaries, and a service host reading from the standby; only the read-replica tests pay for them. The clusters'
// folders are named like TestDatabase's, so that a killed run's are stopped and removed by the next run.
public sealed class StandbyFixture : IAsyncLifetime
{
    public const string DatabaseName = "slices_replica";

    private readonly string primaryDir = Path.Combine(Path.GetTempPath(), $"slices-tests-{Environment.ProcessId}-primary-{Guid.NewGuid():N}");
    private readonly string standbyDir = Path.Combine(Path.GetTempPath(), $"slices-tests-{Environment.ProcessId}-standby-{Guid.NewGuid():N}");

    public EmbeddedPostgres Primary { get; private set; } = null!;

    public EmbeddedPostgres Standby { get; private set; } = null!;

    public IAlbaHost Host { get; private set; } = null!;

    public ApiClient Api { get; private set; } = null!;

    public string PrimaryConnectionString => Primary.ConnectionString(DatabaseName);

    public string StandbyConnectionString => Standby.ConnectionString(DatabaseName);

    public ReadReplicas Replicas => Host.Services.GetRequiredService<ReadReplicas>();

    public async ValueTask InitializeAsync()
    {
        // Durable, as a production primary is: with synchronous_commit off a commit's WAL reaches the standby only when
        // the WAL writer next runs (200 ms), and every read right after a write would wait out its bound.
        Primary = await EmbeddedPostgres.StartAsync(Path.Combine(primaryDir, "data"), DatabaseName, NullLogger.Instance, durable: true);
        Standby = await Primary.StartStandbyAsync(Path.Combine(standbyDir, "data"));
        // A bound long enough that the tests' paused replay stays within it; the lag test starts its own host.
        Host = await StartHostAsync(TimeSpan.FromMinutes(1));
        Api = new ApiClient(Host.Server.CreateClient());
        await UntilServingAsync(Replicas);
    }

    // The hosts' warnings and errors, for a failing test to show.
    public LogSink Logs { get; } = new();

    public Task<IAlbaHost> StartHostAsync(TimeSpan maxReplicaLag) =>
        SlicesFixture.StartHostAsync(
            PrimaryConnectionString,
            new Dictionary<string, string?>
            {
                ["ConnectionStrings:ReadReplica"] = StandbyConnectionString,
                ["Database:MaxReplicaLag"] = maxReplicaLag.ToString("c"),
            },
            s => s.AddSingleton<ILoggerProvider>(Logs));

    // Until the probe has seen the standby fresh, every read goes to the primary.
    public static Task UntilServingAsync(ReadReplicas replicas) =>
        Eventually.HoldsAsync(() => replicas.Standbys.All(s => s.IsFresh(Environment.TickCount64, replicas.MaxLag)), () => "the standby is not in use", seconds: 30);

    // Stops WAL replay on the standby (it keeps receiving), until the returned handle is disposed.
    public async Task<IAsyncDisposable> PauseReplayAsync()
    {
        await StandbySqlAsync("SELECT pg_wal_replay_pause()");
        await Eventually.HoldsAsync(async () => (string)(await StandbySqlAsync("SELECT pg_get_wal_replay_pause_state()"))! == "paused", () => "replay not paused");
        return new Resume(this);
    }

    // Unpooled: a pooled connection would not survive the standby's restart.
    public async Task<object?> StandbySqlAsync(string sql)
    {
        await using var conn = new NpgsqlConnection(StandbyConnectionString + ";Pooling=false");
        await conn.OpenAsync();
        await using var cmd = new NpgsqlCommand(sql, conn);
        return await cmd.ExecuteScalarAsync();
    }

    // Runs sql on the primary, then answers the primary's WAL position, as a write's X-Slices-Lsn would. Unpooled, as
    // the standby's: the primary is restarted too.
    public async Task<string> PrimarySqlAsync(string sql, params object[] args)
    {
        await using var conn = new NpgsqlConnection(PrimaryConnectionString + ";Pooling=false");
        await conn.OpenAsync();
        await using (var cmd = new NpgsqlCommand(sql, conn))
        {
            cmd.Parameters.AddRange(args.Select(a => new NpgsqlParameter { Value = a }).ToArray());
            await cmd.ExecuteNonQueryAsync();
        }

        await using var lsn = new NpgsqlCommand("SELECT pg_current_wal_insert_lsn()::text", conn);
        return (string)(await lsn.ExecuteScalarAsync())!;
    }

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        await Host.DisposeAsync();
        await Standby.StopAsync();
        await Primary.StopAsync();
        Directory.Delete(standbyDir, recursive: true);
        Directory.Delete(primaryDir, recursive: true);
    }

    private sealed class Resume(StandbyFixture fx) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await fx.StandbySqlAsync("SELECT pg_wal_replay_resume()");
    }
}

using Npgsql;
using NpgsqlTypes;
using Slices.Api.Common.Observability;

namespace Slices.Api.Common.Data;

// `ConnectionStrings:ReadReplica` (one or more streaming standbys, in Npgsql's multi-host form `Host=a,b:5433`) and
// `Database:MaxReplicaLag`, read once at start-up (Program.cs). Hosts is empty when no replica is configured.
public sealed record ReadReplicaSettings(IReadOnlyList<string> Hosts, TimeSpan MaxLag)
{
    public static ReadReplicaSettings Load(IConfiguration config)
    {
        var maxLag = Settings.Duration(config, "Database:MaxReplicaLag", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        var text = config.GetConnectionString("ReadReplica");
        if (string.IsNullOrWhiteSpace(text))
        {
            return new([], maxLag);
        }

        NpgsqlConnectionStringBuilder csb;
        try
        {
            csb = new NpgsqlConnectionStringBuilder(text);
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            throw new StartupException($"ConnectionStrings:ReadReplica is not a valid connection string: {e.Message}");
        }

        var hosts = (csb.Host ?? string.Empty).Split(',', StringSplitOptions.TrimEntries);
        if (hosts.Any(h => h.Length == 0))
        {
            throw new StartupException("ConnectionStrings:ReadReplica must name its hosts (Host=standby or Host=standby-1,standby-2:5433).");
        }

        // One data source per standby, so that each is probed and skipped on its own; Npgsql's own multi-host data
        // source hides which host a connection went to. The primary is checked by the probe, not chosen by Npgsql.
        csb.TargetSessionAttributes = null;
        csb.LoadBalanceHosts = false;
        return new(hosts.Select(h => OneHost(csb, h)).ToList(), maxLag);
    }

    // `host`, `host:port` or `[v6-address]:port`, as Npgsql reads a multi-host list.
    private static string OneHost(NpgsqlConnectionStringBuilder all, string host)
    {
        var one = new NpgsqlConnectionStringBuilder(all.ConnectionString);
        var colon = host.LastIndexOf(':');
        var bracketed = host.StartsWith('[');
        if (colon > 0 && (bracketed ? host[colon - 1] == ']' : host.IndexOf(':') == colon)
            && int.TryParse(host.AsSpan(colon + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port))
        {
            one.Host = bracketed ? host[1..(colon - 1)] : host[..colon];
            one.Port = port;
        }
        else
        {
            one.Host = host;
        }

        // A standby that does not answer is skipped; a request that tries one first must not wait the primary's 5 s.
        return Database.Tuned(one, connectTimeout: 1).ConnectionString;
    }
}

// Where a read that tolerates staleness runs: on a streaming standby that is fresh (the probe below saw it within
// Database:MaxReplicaLag of the primary) and has replayed the caller's last write (ReadYourWrites.Floor), else on the
// primary. A standby that fails in any way is left for the primary at once, and skipped until the probe sees it again.
// With no ConnectionStrings:ReadReplica this is the primary's connection and nothing else.
public sealed class ReadReplicas(NpgsqlDataSource primary, IReadOnlyList<Standby> standbys, TimeSpan maxLag) : IAsyncDisposable
{
    // How long a read waits for a standby to replay the caller's last write before it goes to the primary.
    private const int CatchUpWaitMs = 10;
    private const int CatchUpPollMs = 1;

    private int next;

    public IReadOnlyList<Standby> Standbys => standbys;

    public TimeSpan MaxLag => maxLag;

    public async Task<T> ReadAsync<T>(Func<NpgsqlConnection, Task<T>> read, CancellationToken ct)
    {
        if (standbys.Count > 0 && ReadYourWrites.Floor is var floor && floor != ReadYourWrites.PrimaryOnly)
        {
            var now = Environment.TickCount64;
            var first = (int)((uint)Interlocked.Increment(ref next) % (uint)standbys.Count);
            for (var i = 0; i < standbys.Count; i++)
            {
                var standby = standbys[(first + i) % standbys.Count];
                if (standby.IsFresh(now, maxLag))
                {
                    var (served, value) = await TryAsync(standby, floor, now + CatchUpWaitMs, read, ct);
                    if (served)
                    {
                        return value!;
                    }
                }
            }
        }

        await using var conn = await primary.OpenConnectionAsync(ct);
        return await read(conn);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var standby in standbys)
        {
            await standby.Source.DisposeAsync();
        }
    }

    private static async Task<(bool Served, T? Value)> TryAsync<T>(Standby standby, NpgsqlLogSequenceNumber floor, long deadline, Func<NpgsqlConnection, Task<T>> read, CancellationToken ct)
    {
        try
        {
            await using var conn = await standby.Source.OpenConnectionAsync(ct);
            if (floor > standby.Replayed && !await CaughtUpAsync(conn, floor, deadline, ct))
            {
                return (false, default);
            }

            return (true, await read(conn));
        }
        catch (NpgsqlException e) when (!ct.IsCancellationRequested)
        {
            // Whatever went wrong, the primary answers instead (a failure of the read itself fails there again, as it
            // would have without a standby). A recovery conflict ("canceling statement due to conflict with
            // recovery") is the standby's own and says nothing about its health.
            if (e is not PostgresException || PgErrors.IsUnavailable(e))
            {
                standby.Lost();
            }

            return (false, default);
        }
    }

    // Polls the standby's replay position until it reaches the caller's write or the deadline passes.
    private static async Task<bool> CaughtUpAsync(NpgsqlConnection conn, NpgsqlLogSequenceNumber floor, long deadline, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand("SELECT coalesce(pg_last_wal_replay_lsn() >= $1, false)", conn) 
        {
            Parameters = { new() { Value = floor, NpgsqlDbType = NpgsqlDbType.PgLsn } },
        };
        while (!(bool)(await cmd.ExecuteScalarAsync(ct))!)
        {
            if (Environment.TickCount64 + CatchUpPollMs > deadline)
            {
                return false;
            }

            await Task.Delay(CatchUpPollMs, ct);
        }

        return true;
    }
}

// One standby and what was last learnt of it: how far it has replayed, and since when it is known to hold everything
// the primary had written (FreshSince, Environment.TickCount64 milliseconds). Null health: unreachable, failed or not
// in recovery, so skipped until the probe sees it replaying again.
public sealed class Standby(string name, NpgsqlDataSource source)
{
    private volatile Health? health;
    private bool? reportedFresh;

    public static Standby Create(string connectionString)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        return new($"{csb.Host}:{csb.Port}", new NpgsqlDataSourceBuilder(connectionString).WithSqlTracing().Build());
    }

    public NpgsqlDataSource Source => source;

    public NpgsqlLogSequenceNumber Replayed => health?.Replayed ?? NpgsqlLogSequenceNumber.Invalid;

    public long? FreshSince => health?.FreshSince;

    public bool IsFresh(long now, TimeSpan maxLag) => health is { } h && now - h.FreshSince <= maxLag.TotalMilliseconds;

    public void Seen(NpgsqlLogSequenceNumber replayed, long freshSince) => health = new(replayed, freshSince);

    // Its idle connections go too: none of them is tried after it comes back.
    public void Lost()
    {
        health = null;
        source.Clear();
    }

    // The probe's log line, once per change: a standby going out of use or back into it.
    public void Report(bool fresh, string why, ILogger logger)
    {
        if (fresh == reportedFresh)
        {
            return;
        }

        reportedFresh = fresh;
        if (fresh)
        {
            logger.LogInformation("Read replica {Standby} serves reads", name);
        }
        else
        {
            logger.LogWarning("Read replica {Standby} is skipped: {Reason}", name, why);
        }
    }

    private sealed record Health(NpgsqlLogSequenceNumber Replayed, long FreshSince);
}

// Every Database:MaxReplicaLag / 5 (at most every second): the primary's WAL insert position, then each standby's
// replay position. A standby is fresh since the newest primary sample it has replayed, as it then holds everything
// committed before that sample was taken. Sampling the primary rather than trusting the standby's
// pg_last_xact_replay_timestamp(): that one ages while the primary is idle, and cannot tell a standby cut off from its
// primary. With the primary unreachable no sample is taken, and the standbys age out of use within the bound.
public sealed class ReadReplicaProbe(NpgsqlDataSource primary, ReadReplicas replicas, ILogger<ReadReplicas> logger) : BackgroundService
{
    private readonly List<(long At, NpgsqlLogSequenceNumber Lsn)> samples = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromTicks(Math.Min(TimeSpan.TicksPerSecond, replicas.MaxLag.Ticks / 5)));
        try
        {
            do
            {
                await ProbeAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    private async Task ProbeAsync(CancellationToken ct)
    {
        var at = Environment.TickCount64;
        try
        {
            await using var conn = await primary.OpenConnectionAsync(ct);
            await using var cmd = new NpgsqlCommand("SELECT pg_current_wal_insert_lsn()", conn);
            samples.Add((at, (NpgsqlLogSequenceNumber)(await cmd.ExecuteScalarAsync(ct))!));
        }
        catch (NpgsqlException) when (!ct.IsCancellationRequested)
        {
            // The primary's own outage is the requests' to report (503 database_unavailable).
        }

        samples.RemoveAll(s => at - s.At > replicas.MaxLag.TotalMilliseconds);
        await Task.WhenAll(replicas.Standbys.Select(s => ProbeAsync(s, ct)));
    }

    private async Task ProbeAsync(Standby standby, CancellationToken ct)
    {
        string why;
        try
        {
            await using var conn = await standby.Source.OpenConnectionAsync(ct);
            await using var cmd = new NpgsqlCommand("SELECT pg_last_wal_replay_lsn()", conn);
            if (await cmd.ExecuteScalarAsync(ct) is NpgsqlLogSequenceNumber replayed)
            {
                // No sample reached and none before: reachable, but not known to be fresh.
                var reached = samples.FindLast(s => s.Lsn <= replayed);
                var freshSince = Math.Max(reached.At, standby.FreshSince ?? 0);
                if (freshSince > 0)
                {
                    standby.Seen(replayed, freshSince);
                }

                why = $"it has not replayed what the primary had written {replicas.MaxLag.TotalSeconds:0.###} s ago";
            }
            else
            {
                standby.Lost();
                why = "not in recovery (promoted, or not a standby)";
            }
        }
        catch (NpgsqlException e) when (!ct.IsCancellationRequested)
        {
            standby.Lost();
            why = e.Message;
        }

        standby.Report(standby.IsFresh(Environment.TickCount64, replicas.MaxLag), why, logger);
    }
}

public static class ReadReplicaSetup
{
    // The standbys' data sources are the probe's and ReadReplicas' alone: every other use of the database is the
    // primary's NpgsqlDataSource.
    public static IServiceCollection AddReadReplicas(this IServiceCollection services, ReadReplicaSettings settings)
    {
        services.AddSingleton(settings);
        services.AddSingleton(sp => new ReadReplicas(
            sp.GetRequiredService<NpgsqlDataSource>(),
            settings.Hosts.Select(Standby.Create).ToList(),
            settings.MaxLag));
        if (settings.Hosts.Count > 0)
        {
            services.AddHostedService<ReadReplicaProbe>();
        }

        return services;
    }
}

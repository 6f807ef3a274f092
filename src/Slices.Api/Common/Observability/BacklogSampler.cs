using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Dapper;
using Npgsql;
using Slices.Api.Common.Data;

namespace Slices.Api.Common.Observability;

// The job queue and the outboxes as gauges: read from PostgreSQL every `Telemetry:SampleInterval` (instrument callbacks
// run synchronously at collection time, so they report the last sample instead of querying). Every instance reports
// the same shared queue; aggregate with max, not sum.
public sealed class BacklogSampler(NpgsqlDataSource db, TelemetrySettings settings, TimeProvider clock, ILogger<BacklogSampler> logger) : BackgroundService
{
    // Pending jobs not yet due are `scheduled`; the age is how long the oldest due one has waited past its run_at.
    private const string Sample = """
        SELECT kind, CASE WHEN state = 'pending' AND run_at > now() THEN 'scheduled' ELSE state END AS state, count(*) AS count,
               coalesce(extract(epoch FROM now() - min(run_at) FILTER (WHERE state = 'pending' AND run_at <= now())), 0)::float8 AS oldest_due
        FROM jobs WHERE state IN ('pending', 'running', 'failed')
        GROUP BY 1, 2;
        SELECT 'email' AS outbox, state, count(*) AS count FROM outbox_emails WHERE state IN ('pending', 'failed') GROUP BY state
        UNION ALL
        SELECT 'webhook', state, count(*) FROM webhook_deliveries WHERE state IN ('pending', 'failed') GROUP BY state;
        """;

    private static readonly OutboxCount[] Outboxes =
        [new("email", "pending", 0), new("email", "failed", 0), new("webhook", "pending", 0), new("webhook", "failed", 0)];

    private static readonly ConcurrentDictionary<BacklogSampler, bool> Live = new();

    // Created with the first sampler (its StartAsync is the first use of this class's statics).
    public static readonly ObservableGauge<long> Jobs = Telemetry.Meter.CreateObservableGauge(
        "slices.jobs", JobCounts, "{job}", "Jobs in the queue by kind and state: pending (due), scheduled (due later), running, failed.");

    public static readonly ObservableGauge<double> OldestDueJob = Telemetry.Meter.CreateObservableGauge(
        "slices.jobs.oldest_due_age", OldestDue, "s", "How long the oldest due pending job of each kind has waited past its run_at.");

    public static readonly ObservableGauge<long> OutboxBacklog = Telemetry.Meter.CreateObservableGauge(
        "slices.outbox.backlog", OutboxCounts, "{message}", "Emails and webhook deliveries not delivered: pending or failed.");

    private volatile Snapshot last = new([], []);

    // The gauges read every live sampler: one in production; in a test process, one per instance.
    private static IEnumerable<Measurement<long>> JobCounts() =>
        Live.Keys.SelectMany(s => s.last.Jobs).Select(j => new Measurement<long>(j.Count, Tag("job.kind", j.Kind), Tag("state", j.State)));

    private static IEnumerable<Measurement<double>> OldestDue() =>
        Live.Keys.SelectMany(s => s.last.Jobs).Where(j => j.State == "pending").Select(j => new Measurement<double>(j.OldestDue, Tag("job.kind", j.Kind)));

    private static IEnumerable<Measurement<long>> OutboxCounts() =>
        Live.Keys.SelectMany(s => s.last.Outbox).Select(o => new Measurement<long>(o.Count, Tag("outbox", o.Outbox), Tag("state", o.State)));

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        Live[this] = true;
        return base.StartAsync(cancellationToken);
    }

    public override void Dispose()
    {
        Live.TryRemove(this, out _);
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                last = await ReadAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                // The gauges keep their last sample; an outage shows in the health check and the request metrics.
                logger.LogWarning("Could not sample the job queue: {Message}", e.Message);
            }

            await Task.Delay(settings.SampleInterval, clock, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task<Snapshot> ReadAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var read = await conn.QueryMultipleAsync(new CommandDefinition(Sample, cancellationToken: ct));
        var jobs = (await read.ReadAsync<JobCount>()).ToList();
        var outbox = (await read.ReadAsync<OutboxCount>()).ToList();
        // A state that emptied reports 0 rather than vanishing, so that alerts on it resolve; every kind seen has a pending row.
        var empty = last.Jobs.Select(j => (j.Kind, j.State)).Concat(jobs.Select(j => (j.Kind, State: "pending"))).ToHashSet();
        empty.ExceptWith(jobs.Select(j => (j.Kind, j.State)));
        jobs.AddRange(empty.Select(k => new JobCount(k.Kind, k.State, 0, 0)));
        outbox.AddRange(Outboxes.Where(k => !outbox.Any(c => c.Outbox == k.Outbox && c.State == k.State)));
        return new Snapshot(jobs, outbox);
    }

    private static KeyValuePair<string, object?> Tag(string name, string value) => new(name, value);

    private sealed record Snapshot(IReadOnlyList<JobCount> Jobs, IReadOnlyList<OutboxCount> Outbox);

    private sealed record JobCount(string Kind, string State, long Count, double OldestDue);

    private sealed record OutboxCount(string Outbox, string State, long Count);
}

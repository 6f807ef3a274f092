using Dapper;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Common.Work;

// The `Housekeeping:*` settings, read once at start-up (Program.cs); their defaults are Load's.
public sealed class HousekeepingSettings
{
    // How often each instance purges; the first run comes one interval after start-up.
    public TimeSpan Interval { get; init; }

    // Rows one statement deletes; a purge repeats it until fewer come back.
    public int BatchSize { get; init; }

    // How long succeeded jobs (and the sent emails and delivered webhooks they carried) stay visible to admins and,
    // for event creations, to the creator polling `/api/events/jobs/{id}`. Failed jobs are never purged: admins retry them.
    public TimeSpan JobRetention { get; init; }

    // How long refresh tokens are kept after they expired or their session was revoked (and revoked sessions after
    // that): a spent token presented again within that time still ends a session that is somehow still live.
    public TimeSpan RefreshTokenRetention { get; init; }

    public static HousekeepingSettings Load(IConfiguration config) => new()
    {
        Interval = Settings.Duration(config, "Housekeeping:Interval", TimeSpan.FromMinutes(5), TimeSpan.FromSeconds(1), TimeSpan.FromDays(1)),
        BatchSize = Settings.Number(config, "Housekeeping:BatchSize", 1000, 1, 100_000),
        JobRetention = Settings.Duration(config, "Housekeeping:JobRetention", TimeSpan.FromDays(30), TimeSpan.FromHours(1), TimeSpan.FromDays(3650)),
        RefreshTokenRetention = Settings.Duration(config, "Housekeeping:RefreshTokenRetention", TimeSpan.FromDays(7), TimeSpan.Zero, TimeSpan.FromDays(3650)),
    };
}

// Deletes rows nothing needs any more, every Housekeeping:Interval on every instance: idempotency keys past their
// 24 h, login failures past their 15-minute window, refresh tokens and revoked sessions past RefreshTokenRetention,
// sessions nobody revoked once their refresh tokens are all gone, succeeded jobs with their outbox rows past
// JobRetention. Each statement deletes at most BatchSize rows in a
// transaction of its own, so no purge holds locks for long; rows are picked `FOR UPDATE SKIP LOCKED`, so instances
// purging at once split the rows between them and a purge never waits for a request that holds one.
public sealed class Housekeeping(NpgsqlDataSource db, HousekeepingSettings settings, TimeProvider clock, ILogger<Housekeeping> logger)
    : BackgroundService
{
    // Deletes at most @batch rows of table matching condition (rows older than @cutoff), skipping rows others hold.
    private static string Batch(string table, string condition) => $"""
        DELETE FROM {table} WHERE ctid = ANY(ARRAY(
            SELECT ctid FROM {table} WHERE {condition} LIMIT @batch FOR UPDATE SKIP LOCKED))
        """;

    private static readonly string IdempotencyKeys = Batch("idempotency_keys", "created_at < @cutoff");

    private static readonly string LoginFailures = Batch("login_failures", "window_start < @cutoff");

    private static readonly string ExpiredRefreshTokens = Batch("refresh_tokens", "expires_at < @cutoff");

    // A revoked session never comes back (every check asks for revoked_at IS NULL), so its tokens can only be
    // refused; they go first, in batches, so that deleting the sessions cascades to next to nothing.
    private static readonly string RevokedSessionTokens = Batch(
        "refresh_tokens", "session_id IN (SELECT id FROM sessions WHERE revoked_at < @cutoff)");

    private static readonly string RevokedSessions = Batch("sessions", "revoked_at < @cutoff");

    // A session nobody revoked whose refresh tokens are all gone (expired, then deleted above) can never be refreshed
    // again, and its last access token ran out long before: a client that stopped without logging out. Only sessions
    // started with refresh tokens qualify; an admin-panel session never has any.
    private static readonly string AbandonedSessions = Batch(
        "sessions", "revoked_at IS NULL AND refreshable AND created_at < @cutoff AND NOT EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.session_id = sessions.id)");

    // A succeeded job and what it delivered: its email once sent, its webhook (with the attempt log, and the
    // restaurant's forward record, by cascade) once delivered. A job whose outbox row is in any other state is kept,
    // so nothing an admin could still act on disappears. The outbox rows go in the same statement as their jobs,
    // before the foreign keys are checked at its end.
    private const string SucceededJobs = """
        WITH old AS (
            SELECT j.id FROM jobs j
            WHERE j.state = 'succeeded' AND j.finished_at < @cutoff
              AND NOT EXISTS (SELECT 1 FROM outbox_emails e WHERE e.job_id = j.id AND e.state <> 'sent')
              AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.job_id = j.id AND d.state <> 'delivered')
            ORDER BY j.finished_at
            LIMIT @batch
            FOR UPDATE SKIP LOCKED
        ), emails AS (
            DELETE FROM outbox_emails e USING old WHERE e.job_id = old.id
        ), webhooks AS (
            DELETE FROM webhook_deliveries d USING old WHERE d.job_id = old.id
        )
        DELETE FROM jobs j USING old WHERE j.id = old.id
        """;

    // Rows deleted by one run, by what they were.
    public sealed record Purged(long IdempotencyKeys, long LoginFailures, long RefreshTokens, long Sessions, long Jobs)
    {
        public long Total => IdempotencyKeys + LoginFailures + RefreshTokens + Sessions + Jobs;
    }

    // One purge of everything, now; the background loop calls it every Interval.
    public async Task<Purged> RunOnceAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var tokensCutoff = now - settings.RefreshTokenRetention;
        return new Purged(
            await DeleteAsync(IdempotencyKeys, now - IdempotencyMiddleware.Lifetime, ct),
            await DeleteAsync(LoginFailures, now - Credentials.FailureWindow, ct),
            await DeleteAsync(ExpiredRefreshTokens, tokensCutoff, ct) + await DeleteAsync(RevokedSessionTokens, tokensCutoff, ct),
            await DeleteAsync(RevokedSessions, tokensCutoff, ct) + await DeleteAsync(AbandonedSessions, tokensCutoff, ct),
            await DeleteAsync(SucceededJobs, now - settings.JobRetention, ct));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(settings.Interval, clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    var purged = await RunOnceAsync(stoppingToken);
                    if (purged.Total > 0)
                    {
                        logger.LogInformation("Housekeeping deleted {Purged}", purged);
                    }
                }
#pragma warning disable CA1031 // A failed purge must not stop the service; the next interval tries again, and the error is logged.
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
#pragma warning restore CA1031
                {
                    if (PgErrors.IsUnavailable(e))
                    {
                        logger.LogWarning("Housekeeping cannot reach the database: {Message}", e.Message);
                    }
                    else
                    {
                        logger.LogError(e, "Housekeeping failed; trying again in {Interval}", settings.Interval);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    // Runs statement until a batch comes back short; returns the rows deleted.
    private async Task<long> DeleteAsync(string statement, DateTime cutoff, CancellationToken ct)
    {
        long total = 0;
        int deleted;
        do
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            deleted = await conn.ExecuteAsync(new CommandDefinition(statement, new { cutoff, batch = settings.BatchSize }, cancellationToken: ct));
            total += deleted;
        }
        while (deleted == settings.BatchSize);

        return total;
    }
}

public static class HousekeepingSetup
{
    public static IServiceCollection AddHousekeeping(this IServiceCollection services, HousekeepingSettings settings)
    {
        services.AddSingleton(settings);
        services.AddSingleton<Housekeeping>();
        services.AddHostedService(s => s.GetRequiredService<Housekeeping>());
        return services;
    }
}

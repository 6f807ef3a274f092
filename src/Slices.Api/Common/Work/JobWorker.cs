using System.Diagnostics;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Slices.Api.Common.Data;
using Slices.Api.Common.Observability;

namespace Slices.Api.Common.Work;

// Runs due jobs: `Work:Concurrency` loops claim one job at a time with `FOR UPDATE SKIP LOCKED`, so any
// number of instances share one queue without two of them holding a job at once. Idle loops sleep until the
// next job is due, a NOTIFY arrives, or `Work:PollInterval` passes. A claim is a lease renewed while the
// job runs; a job whose worker died is claimed again once its lease runs out. When the host starts stopping
// (ApplicationStopping: SIGTERM, before the server stops accepting) the loops stop claiming and running jobs are
// cancelled and handed back at once: pending and due, lease cleared, the run not counted as an attempt, and a NOTIFY
// that wakes the loops of other instances, so that one of them, or this one restarted, runs them without waiting
// out the lease.
public sealed class JobWorker(
    NpgsqlDataSource db, IServiceScopeFactory scopes, JobKinds kinds, TimeProvider clock, IOptions<WorkOptions> options,
    IHostApplicationLifetime lifetime, ILogger<JobWorker> logger)
    : BackgroundService, IPgSubscriber
{
    private const string Claim = """
        WITH next AS (
            SELECT id FROM jobs
            WHERE kind = ANY(@kinds)
              AND ((state = 'pending' AND run_at <= @now) OR (state = 'running' AND locked_until <= @now))
            ORDER BY run_at, id
            LIMIT 1
            FOR UPDATE SKIP LOCKED
        )
        UPDATE jobs j
        SET state = 'running', attempts = j.attempts + 1, locked_until = @lockedUntil, lock_token = @token, updated_at = @now
        FROM next
        WHERE j.id = next.id
        RETURNING j.id, j.kind, j.payload::text AS payload, j.attempts AS attempt, j.max_attempts, j.run_at, j.created_at, j.lock_token
        """;

    private const string NextDue = """
        SELECT least(
            (SELECT min(run_at) FROM jobs WHERE state = 'pending' AND kind = ANY(@kinds)),
            (SELECT min(locked_until) FROM jobs WHERE state = 'running' AND kind = ANY(@kinds)))
        """;

    private const string Renew = "UPDATE jobs SET locked_until = @until WHERE id = @id AND lock_token = @token";

    private const string Succeed = """
        UPDATE jobs SET state = 'succeeded', locked_until = NULL, lock_token = NULL, updated_at = @now, finished_at = @now
        WHERE id = @id AND lock_token = @token
        """;

    private const string Fail = """
        UPDATE jobs
        SET state = CASE WHEN @final THEN 'failed' ELSE 'pending' END,
            run_at = CASE WHEN @final THEN run_at ELSE @retryAt END,
            last_error = @error, locked_until = NULL, lock_token = NULL, updated_at = @now,
            finished_at = CASE WHEN @final THEN @now END
        WHERE id = @id AND lock_token = @token
        """;

    // Pending again without using up the attempt the claim counted.
    private const string Defer = """
        UPDATE jobs SET state = 'pending', run_at = @runAt, attempts = attempts - 1, last_error = @error,
            locked_until = NULL, lock_token = NULL, updated_at = @now
        WHERE id = @id AND lock_token = @token
        """;

    // Pending and due again, the interrupted run not counted, and the other instances' idle loops woken.
    private const string HandBack = $"""
        WITH wake AS ({Jobs.Notify})
        UPDATE jobs SET state = 'pending', run_at = @now, attempts = attempts - 1, last_error = @error,
            locked_until = NULL, lock_token = NULL, updated_at = @now
        FROM wake
        WHERE id = @id AND lock_token = @token
        """;

    private const int MaxErrorLength = 4000;

    private readonly WorkOptions settings = options.Value;
    private readonly CancellationTokenSource running = new();
    private TaskCompletionSource wake = NewSignal();
    private string[] handledKinds = [];
    private CancellationTokenRegistration onStopping;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Fails the start-up on duplicate kinds rather than at the first job.
        handledKinds = [.. kinds.All];
        // The host fires ApplicationStopping before it stops any service, the web server included. StopAsync (the base
        // class's) then waits for the hand-backs up to the host's shutdown timeout; a job whose hand-back could not be
        // written (the database away) runs again once its lease runs out.
        onStopping = lifetime.ApplicationStopping.Register(running.Cancel);
        return base.StartAsync(cancellationToken);
    }

    public override void Dispose()
    {
        onStopping.Dispose();
        running.Dispose();
        base.Dispose();
    }

    // The pause before retry number attempt+1: base × 2^(attempt−1), capped, plus jitter × 50 %.
    public static TimeSpan RetryDelay(int attempt, WorkOptions o, double jitter)
    {
        ArgumentNullException.ThrowIfNull(o);
        var exponential = o.RetryBaseDelay.Ticks * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        var capped = Math.Min(exponential, o.RetryMaxDelay.Ticks);
        return TimeSpan.FromTicks((long)(capped * (1 + (0.5 * Math.Clamp(jitter, 0, 1)))));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.Concurrency == 0 || handledKinds.Length == 0)
        {
            return;
        }

        await Task.Yield();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, running.Token);
        await Task.WhenAll(Enumerable.Range(0, settings.Concurrency).Select(_ => LoopAsync(stop.Token)));
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private void Wake() => Interlocked.Exchange(ref wake, NewSignal()).TrySetResult();

    // Wakes idle loops on NOTIFY.
    public IReadOnlyCollection<string> Channels => settings.Concurrency == 0 ? [] : [Jobs.Channel];

    public void OnNotification(NpgsqlNotificationEventArgs notification) => Wake();

    // Whatever was enqueued while nobody listened.
    public void OnListening() => Wake();

    // Idle loops poll every Work:PollInterval meanwhile.
    public void OnLost()
    {
    }

    private async Task LoopAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            // Taken before looking for work, so that a notification arriving meanwhile is not missed.
            var signal = wake.Task;
            DateTime? nextDue = null;
            try
            {
                if (await ClaimAsync() is { } job)
                {
                    await RunAsync(job);
                    continue;
                }

                nextDue = await NextDueAsync();
            }
#pragma warning disable CA1031 // A worker loop must survive anything one job or one outage throws; the error is logged.
            catch (Exception e)
#pragma warning restore CA1031
            {
                if (PgErrors.IsUnavailable(e))
                {
                    logger.LogWarning("Job worker cannot reach the database: {Message}", e.Message);
                }
                else
                {
                    logger.LogError(e, "Job worker loop failed");
                }
            }

            // Read the clock only now, right before the timer starts, so that time passing meanwhile is not slept through.
            var now = clock.GetUtcNow().UtcDateTime;
            var wait = nextDue is { } due && due - now < settings.PollInterval ? due - now : settings.PollInterval;
            if (wait <= TimeSpan.Zero)
            {
                // Due work that another transaction still holds: a short real pause instead of spinning.
                await Task.Delay(TimeSpan.FromMilliseconds(20), CancellationToken.None);
                continue;
            }

            await SleepAsync(signal, wait, stopping);
        }
    }

    private async Task SleepAsync(Task signal, TimeSpan wait, CancellationToken stopping)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        var delay = Task.Delay(wait, clock, cts.Token);
        await Task.WhenAny(signal, delay);
        await cts.CancelAsync();
    }

    private async Task<DateTime?> NextDueAsync()
    {
        await using var conn = await db.OpenConnectionAsync(CancellationToken.None);
        return await conn.ExecuteScalarAsync<DateTime?>(new CommandDefinition(NextDue, new { kinds = handledKinds }));
    }

    private async Task<Claimed?> ClaimAsync()
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var conn = await db.OpenConnectionAsync(CancellationToken.None);
        return await conn.QuerySingleOrDefaultAsync<Claimed>(new CommandDefinition(Claim, new
        {
            kinds = handledKinds,
            now,
            lockedUntil = now + settings.LeaseDuration,
            token = Guid.NewGuid(),
        }));
    }

    private async Task RunAsync(Claimed claimed)
    {
        var token = claimed.LockToken;
        var job = claimed.ToJob();
        // A trace of its own per run (the enqueuing request's trace is not stored with the job).
        using var activity = Telemetry.Source.StartActivity($"job {job.Kind}", ActivityKind.Consumer);
        activity?.SetTag("job.id", job.Id).SetTag("job.kind", job.Kind).SetTag("job.attempt", job.Attempt);
        var started = Stopwatch.GetTimestamp();
        await using var scope = scopes.CreateAsyncScope();
        var handler = JobKinds.Resolve(scope.ServiceProvider, job.Kind)!;
        using var jobCts = CancellationTokenSource.CreateLinkedTokenSource(running.Token);
        using var finished = new CancellationTokenSource();
        var heartbeat = HeartbeatAsync(job.Id, token, jobCts, finished.Token);
        string? error = null;
        var permanent = false;
        TimeSpan? deferBy = null;
        try
        {
            // Claimed just as the host began stopping: handed back without running.
            running.Token.ThrowIfCancellationRequested();
            if (job.Attempt > job.MaxAttempts)
            {
                error = "The worker running the last attempt stopped before finishing (its lease ran out).";
                permanent = true;
            }
            else
            {
                await handler.RunAsync(job, jobCts.Token);
            }
        }
        catch (OperationCanceledException) when (running.IsCancellationRequested)
        {
            await finished.CancelAsync();
            await heartbeat;
            await RecordAsync(HandBack, new { id = job.Id, token, now = Now(), error = "Interrupted by shutdown; handed back to the queue." });
            logger.LogWarning("Job {JobId} ({Kind}) interrupted by shutdown; handed back to the queue", job.Id, job.Kind);
            Finished(activity, job, "released", started);
            return;
        }
        catch (PermanentJobFailureException e)
        {
            error = e.Message;
            permanent = true;
        }
        catch (JobDeferredException e)
        {
            error = e.Message;
            deferBy = e.Delay;
        }
#pragma warning disable CA1031 // Any exception from a handler is that job's failure, recorded on the job.
        catch (Exception e)
#pragma warning restore CA1031
        {
            error = $"{e.GetType().Name}: {e.Message}";
        }

        await finished.CancelAsync();
        await heartbeat;
        if (error is null)
        {
            await RecordAsync(Succeed, new { id = job.Id, token, now = Now() });
            Finished(activity, job, "succeeded", started);
            return;
        }

        if (error.Length > MaxErrorLength)
        {
            error = error[..MaxErrorLength];
        }

        if (deferBy is { } delay)
        {
            var deferredAt = Now();
            await RecordAsync(Defer, new { id = job.Id, token, now = deferredAt, runAt = deferredAt + delay, error });
            logger.LogInformation("Job {JobId} ({Kind}) deferred until {RunAt:O}: {Reason}", job.Id, job.Kind, deferredAt + delay, error);
            Finished(activity, job, "deferred", started);
            return;
        }

        var final = permanent || job.IsLastAttempt;
        var now = Now();
        var retryAt = now + RetryDelay(job.Attempt, settings, Random.Shared.NextDouble());
        var recorded = await RecordAsync(Fail, new { id = job.Id, token, now, final, retryAt, error });
        Finished(activity, job, final ? "failed" : "retried", started, error);
        if (!final)
        {
            logger.LogWarning("Job {JobId} ({Kind}) attempt {Attempt}/{MaxAttempts} failed, retrying at {RetryAt:O}: {Error}",
                job.Id, job.Kind, job.Attempt, job.MaxAttempts, retryAt, error);
            return;
        }

        logger.LogError("Job {JobId} ({Kind}) failed after attempt {Attempt}/{MaxAttempts}: {Error}", job.Id, job.Kind, job.Attempt, job.MaxAttempts, error);
        if (recorded)
        {
            try
            {
                await handler.OnFailedAsync(job, error, CancellationToken.None);
            }
#pragma warning disable CA1031 // The job is failed either way; a failing failure hook is logged, not rethrown into the loop.
            catch (Exception e)
#pragma warning restore CA1031
            {
                logger.LogError(e, "The failure hook of job {JobId} ({Kind}) threw", job.Id, job.Kind);
            }
        }
    }

    private DateTime Now() => clock.GetUtcNow().UtcDateTime;

    // The run's outcome on its span (an error unless it succeeded, was deferred or handed back) and in the job metrics.
    private static void Finished(Activity? activity, Job job, string outcome, long started, string? error = null)
    {
        activity.Outcome(outcome, error is null, error);
        var tags = new TagList { { "job.kind", job.Kind }, { "outcome", outcome } };
        Telemetry.JobsFinished.Add(1, tags);
        Telemetry.JobDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds, tags);
    }

    // Writes an outcome only while the claim still holds the job: a worker that lost its lease changes nothing.
    private async Task<bool> RecordAsync(string sql, object args)
    {
        await using var conn = await db.OpenConnectionAsync(CancellationToken.None);
        var changed = await conn.ExecuteAsync(new CommandDefinition(sql, args)) == 1;
        if (!changed)
        {
            logger.LogWarning("A job's lease ran out before its outcome was recorded; the run that took it over decides ({Args})", args);
        }

        return changed;
    }

    private async Task HeartbeatAsync(long id, Guid token, CancellationTokenSource job, CancellationToken finished)
    {
        var every = settings.LeaseDuration / 3;
        while (!finished.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(every, clock, finished);
                await using var conn = await db.OpenConnectionAsync(finished);
                if (await conn.ExecuteAsync(new CommandDefinition(Renew, new { id, token, until = Now() + settings.LeaseDuration }, cancellationToken: finished)) == 0)
                {
                    logger.LogWarning("Job {JobId} lost its lease to another worker; cancelling this run", id);
                    await job.CancelAsync();
                    return;
                }
            }
            catch (OperationCanceledException) when (finished.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The renewal must outlive a failed attempt; the lease covers a short outage.
            catch (Exception e)
#pragma warning restore CA1031
            {
                logger.LogWarning(e, "Could not renew the lease of job {JobId}: {Message}", id, e.Message);
            }
        }
    }

    private sealed record Claimed(long Id, string Kind, string Payload, int Attempt, int MaxAttempts, DateTime RunAt, DateTime CreatedAt, Guid LockToken)
    {
        public Job ToJob()
        {
            using var payload = JsonDocument.Parse(Payload);
            return new Job(Id, Kind, payload.RootElement.Clone(), Attempt, MaxAttempts, RunAt, CreatedAt);
        }
    }
}

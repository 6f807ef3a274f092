using System.Collections.Concurrent;
using System.Net;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Slices.Api.Common.Work;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Work;

public sealed class JobQueueTests(SlicesFixture fx)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Job_enqueued_in_a_rolled_back_transaction_never_runs_and_one_committed_runs_once()
    {
        var probe = new ProbeHandler("test.probe");
        await using var host = await WorkHost.StartAsync(fx, s => s.AddSingleton<IJobHandler>(probe));

        long rolledBack;
        await using (var conn = await host.OpenAsync())
        {
            await using var tx = await conn.BeginTransactionAsync(Ct);
            rolledBack = await host.Jobs.EnqueueAsync(conn, tx, "test.probe", new { n = 1 }, null, Ct);
            await tx.RollbackAsync(Ct);
        }

        var committed = await host.EnqueueAsync("test.probe", new { n = 2 });
        var job = await host.WaitForJobAsync(committed, j => j.State == "succeeded");
        // One more poll interval: a second run, or a run of the rolled-back job, would show up by then.
        await Task.Delay(700, Ct);

        Assert.Equal(1, job.Attempts);
        Assert.Equal(2, job.Payload.GetProperty("n").GetInt32());
        Assert.Equal([committed], probe.Runs.Select(r => r.JobId));
        Assert.Equal(0, await host.ScalarAsync<long>("SELECT count(*) FROM jobs WHERE id = @rolledBack", new { rolledBack }));
    }

    [Fact]
    public async Task Job_does_not_run_before_its_run_at()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var probe = new ProbeHandler("test.probe");
        await using var host = await WorkHost.StartAsync(fx, s => s.AddSingleton<IJobHandler>(probe), clock: clock);

        var later = await host.EnqueueAsync("test.probe", new { }, clock.GetUtcNow().AddHours(1));
        // A job due now, enqueued after the later one: once it has run, the workers have looked at the later one too.
        var canary = await host.EnqueueAsync("test.probe", new { });
        await host.WaitForJobAsync(canary, j => j.State == "succeeded");
        clock.Advance(TimeSpan.FromMinutes(59));
        var secondCanary = await host.EnqueueAsync("test.probe", new { });
        await host.WaitForJobAsync(secondCanary, j => j.State == "succeeded");

        Assert.Equal(0, probe.RunsOf(later));
        Assert.Equal("pending", (await host.JobAsync(later))!.State);

        clock.Advance(TimeSpan.FromMinutes(1));
        var job = await host.WaitForJobAsync(later, j => j.State == "succeeded");
        Assert.Equal(1, probe.RunsOf(later));
        Assert.Equal(clock.GetUtcNow().UtcDateTime, job.FinishedAt!.Value, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task A_deferred_job_waits_pending_as_often_as_it_asks_without_using_up_its_attempts()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var probe = new ProbeHandler("test.deferred");
        var ready = false;
        probe.Body = (_, _) => ready ? Task.CompletedTask : throw new JobDeferredException("not yet", TimeSpan.FromMinutes(5));
        await using var host = await WorkHost.StartAsync(fx, s => s.AddSingleton<IJobHandler>(probe), clock: clock);

        // More deferrals than attempts: none of them counts.
        var id = await host.EnqueueAsync("test.deferred", new { }, maxAttempts: 2);
        for (var run = 1; run <= 3; run++)
        {
            var deferred = await host.WaitForJobAsync(id, j => j.State == "pending" && j.RunAt > clock.GetUtcNow().UtcDateTime);
            Assert.Equal(run, probe.RunsOf(id));
            Assert.Equal(0, deferred.Attempts);
            Assert.Equal("not yet", deferred.LastError);
            Assert.Equal(TimeSpan.FromMinutes(5), deferred.RunAt - deferred.UpdatedAt);
            ready = run == 3;
            clock.Advance(TimeSpan.FromMinutes(5));
        }

        var done = await host.WaitForJobAsync(id, j => j.State == "succeeded");
        Assert.Equal(1, done.Attempts);
        Assert.Equal(4, probe.RunsOf(id));
    }

    [Fact]
    public async Task Failing_job_retries_with_growing_delays_then_fails_and_an_admin_retry_runs_it_again()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var probe = new ProbeHandler("test.flaky");
        var succeed = false;
        probe.Body = (job, _) => succeed ? Task.CompletedTask : throw new InvalidOperationException($"boom {job.Attempt}");
        var settings = new Dictionary<string, string?> { ["Work:RetryBaseDelay"] = "00:00:01", ["Work:RetryMaxDelay"] = "00:01:00" };
        await using var host = await WorkHost.StartAsync(fx, s => s.AddSingleton<IJobHandler>(probe), settings, clock: clock);
        var admin = (await host.Api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;

        var id = await host.EnqueueAsync("test.flaky", new { }, maxAttempts: 4);
        var delays = new List<TimeSpan>();
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            var failed = await host.WaitForJobAsync(id, j => j.Attempts == attempt && j.State == "pending");
            Assert.Equal($"InvalidOperationException: boom {attempt}", failed.LastError);
            var delay = failed.RunAt - failed.UpdatedAt;
            // base × 2^(attempt−1), plus at most 50 % jitter.
            var floor = TimeSpan.FromSeconds(Math.Pow(2, attempt - 1));
            Assert.InRange(delay, floor, floor * 1.5);
            delays.Add(delay);
            clock.Advance(delay + TimeSpan.FromMilliseconds(1));
        }

        var final = await host.WaitForJobAsync(id, j => j.State == "failed");
        Assert.True(delays[0] < delays[1] && delays[1] < delays[2], string.Join(", ", delays));
        Assert.Equal(4, final.Attempts);
        Assert.Equal("InvalidOperationException: boom 4", final.LastError);
        Assert.Equal(4, probe.RunsOf(id));

        var listed = (await host.Api.GetAsync("/api/admin/jobs?state=failed", admin)).Is(HttpStatusCode.OK);
        var item = Assert.Single(listed.Array, j => j!["id"]!.GetValue<long>() == id)!;
        Assert.Equal("failed", item["state"]!.GetValue<string>());
        Assert.Equal("InvalidOperationException: boom 4", item["last_error"]!.GetValue<string>());
        Assert.Equal(4, item["max_attempts"]!.GetValue<int>());

        succeed = true;
        var retried = (await host.Api.PostAsync($"/api/admin/jobs/{id}/retry", null, admin)).Is(HttpStatusCode.Accepted);
        Assert.Equal("pending", retried.Body!["state"]!.GetValue<string>());
        Assert.Equal(0, retried.Body["attempts"]!.GetValue<int>());
        var done = await host.WaitForJobAsync(id, j => j.State == "succeeded");
        Assert.Equal(1, done.Attempts);
        Assert.Equal(5, probe.RunsOf(id));
        (await host.Api.PostAsync($"/api/admin/jobs/{id}/retry", null, admin)).IsProblem(HttpStatusCode.Conflict, "job_not_failed");
    }

    [Fact]
    public async Task Two_instances_on_one_database_run_each_of_200_jobs_exactly_once()
    {
        var runs = new ConcurrentQueue<(long JobId, int Attempt, string Instance)>();
        var database = await WorkHost.NewDatabaseAsync(fx);
        var settings = new Dictionary<string, string?> { ["Work:Concurrency"] = "3" };
        ProbeHandler Probe(string instance) => new("test.count", instance) { Runs = runs, Body = (_, ct) => Task.Delay(5, ct) };
        await using var a = await WorkHost.StartAsync(fx, s => s.AddSingleton<IJobHandler>(Probe("a")), settings, database);
        await using var b = await WorkHost.StartAsync(fx, s => s.AddSingleton<IJobHandler>(Probe("b")), settings, database);

        await using (var conn = await a.OpenAsync())
        {
            await using var tx = await conn.BeginTransactionAsync(Ct);
            for (var i = 0; i < 200; i++)
            {
                await a.Jobs.EnqueueAsync(conn, tx, "test.count", new { i }, null, Ct);
            }

            await tx.CommitAsync(Ct);
        }

        await Eventually.HoldsAsync(
            async () => await a.ScalarAsync<long>("SELECT count(*) FROM jobs WHERE state = 'succeeded'") == 200,
            () => $"{runs.Count} runs so far", seconds: 30);

        Assert.Equal(200, runs.Count);
        Assert.Equal(200, runs.Select(r => r.JobId).Distinct().Count());
        Assert.All(runs, r => Assert.Equal(1, r.Attempt));
        Assert.Contains(runs, r => r.Instance == "a");
        Assert.Contains(runs, r => r.Instance == "b");
        Assert.Equal(200, await a.ScalarAsync<long>("SELECT count(*) FROM jobs WHERE attempts = 1"));
    }

    [Fact]
    public async Task Job_whose_worker_died_runs_again_after_its_lease_and_its_effect_is_applied_once()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var zombieDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = new ProbeHandler("test.effect");
        WorkHost? hostRef = null;
        probe.Body = async (job, _) =>
        {
            if (job.Attempt == 1)
            {
                // The first run hangs like a dead worker (deaf to cancellation) until the test lets it go.
                started.SetResult();
                await release.Task;
            }

            // The effect, made idempotent by a unique key: a repeated run changes nothing.
            await using var conn = await hostRef!.OpenAsync();
            await conn.ExecuteAsync("INSERT INTO work_test_effects (job_id) VALUES (@Id) ON CONFLICT (job_id) DO NOTHING", new { job.Id });
            if (job.Attempt == 1)
            {
                zombieDone.SetResult();
            }
        };
        var settings = new Dictionary<string, string?> { ["Work:LeaseDuration"] = "00:00:30" };
        await using var host = hostRef = await WorkHost.StartAsync(fx, s => s.AddSingleton<IJobHandler>(probe), settings);
        await host.ScalarAsync<int>("CREATE TABLE work_test_effects (job_id bigint PRIMARY KEY)");

        var id = await host.EnqueueAsync("test.effect", new { });
        await started.Task.WaitAsync(TimeSpan.FromSeconds(15), Ct);
        var running = (await host.JobAsync(id))!;
        Assert.Equal(("running", 1), (running.State, running.Attempts));
        Assert.True(running.LockedUntil > DateTime.UtcNow.AddSeconds(20), $"lease until {running.LockedUntil:O}");

        // The worker "dies": its lease runs out while the job is still marked running.
        await host.ScalarAsync<int>("UPDATE jobs SET locked_until = @past WHERE id = @id", new { id, past = DateTime.UtcNow.AddSeconds(-1) });
        var rerun = await host.WaitForJobAsync(id, j => j.State == "succeeded");
        Assert.Equal(2, rerun.Attempts);

        release.SetResult();
        await zombieDone.Task.WaitAsync(TimeSpan.FromSeconds(15), Ct);
        await Task.Delay(200, Ct);

        Assert.Equal(2, probe.RunsOf(id));
        Assert.Equal(1, await host.ScalarAsync<long>("SELECT count(*) FROM work_test_effects WHERE job_id = @id", new { id }));
        // The late first run could not overwrite the outcome of the run that took its job over.
        var final = (await host.JobAsync(id))!;
        Assert.Equal(("succeeded", 2), (final.State, final.Attempts));
    }

    [Fact]
    public async Task A_job_whose_worker_died_on_its_last_attempt_fails_without_running_again()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = new ProbeHandler("test.last") { Body = async (_, _) => { started.TrySetResult(); await release.Task; } };
        await using var host = await WorkHost.StartAsync(fx, s => s.AddSingleton<IJobHandler>(probe), new Dictionary<string, string?> { ["Work:LeaseDuration"] = "00:00:30" });

        var id = await host.EnqueueAsync("test.last", new { }, maxAttempts: 1);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(15), Ct);
        await host.ScalarAsync<int>("UPDATE jobs SET locked_until = @past WHERE id = @id", new { id, past = DateTime.UtcNow.AddSeconds(-1) });

        var job = await host.WaitForJobAsync(id, j => j.State == "failed");
        release.SetResult();
        Assert.Equal(1, probe.RunsOf(id));
        Assert.Contains("lease ran out", job.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_running_longer_than_its_lease_keeps_it_by_renewing_and_runs_once()
    {
        // Real time: a renewal's lateness is a matter of scheduling, which a fake clock cannot model. The lease is
        // 3 s, renewed every second; the job runs 6 s while an idle worker polls every 0.5 s for lapsed leases.
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = new ProbeHandler("test.long") { Body = async (_, ct) => { started.TrySetResult(); await Task.Delay(6000, ct); } };
        var settings = new Dictionary<string, string?> { ["Work:LeaseDuration"] = "00:00:03" };
        await using var host = await WorkHost.StartAsync(fx, s => s.AddSingleton<IJobHandler>(probe), settings);

        var id = await host.EnqueueAsync("test.long", new { });
        await started.Task.WaitAsync(TimeSpan.FromSeconds(15), Ct);
        var leases = new HashSet<DateTime>();
        JobView job;
        while ((job = (await host.JobAsync(id))!).State == "running")
        {
            leases.Add(job.LockedUntil!.Value);
            await Task.Delay(100, Ct);
        }

        Assert.Equal(("succeeded", 1), (job.State, job.Attempts));
        Assert.Equal(1, probe.RunsOf(id));
        Assert.True(leases.Count >= 4, $"the lease was renewed {leases.Count - 1} times");
    }

    [Fact]
    public async Task Shutdown_hands_a_running_job_back_at_once_and_another_instance_runs_it_without_waiting_out_the_lease_or_its_poll()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // Runs for a minute where the stopping instance runs it: only the hand-back ends it in time.
        var stopping = new ProbeHandler("test.slow", "stopping") { Body = async (_, ct) => { started.TrySetResult(); await Task.Delay(TimeSpan.FromMinutes(1), ct); } };
        var other = new ProbeHandler("test.slow", "other");
        // Neither the lease nor the other instance's poll ends within the test: only the hand-back's NOTIFY wakes it.
        var settings = new Dictionary<string, string?> { ["Work:LeaseDuration"] = "00:01:00", ["Work:PollInterval"] = "00:01:00" };
        var host = await WorkHost.StartAsync(fx, s => s.AddSingleton<IJobHandler>(stopping), settings);
        await using (host)
        {
            var id = await host.EnqueueAsync("test.slow", new { });
            await started.Task.WaitAsync(TimeSpan.FromSeconds(15), Ct);
            await using var second = await WorkHost.StartAsync(fx, s => s.AddSingleton<IJobHandler>(other), settings, host.ConnectionString);
            // Its loops have looked once and found the job leased; they sleep now.
            await Task.Delay(500, Ct);
            Assert.Empty(other.Runs);

            var sw = System.Diagnostics.Stopwatch.StartNew();
            await host.Host.StopAsync(Ct);
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"stopping took {sw.Elapsed.TotalSeconds:0.0} s");

            var job = await second.WaitForJobAsync(id, j => j.State == "succeeded");
            Assert.Equal(1, job.Attempts);
            Assert.Equal([(id, 1, "stopping"), (id, 1, "other")], stopping.Runs.Concat(other.Runs));
        }
    }

    [Fact]
    public async Task A_stopped_instance_has_handed_its_running_job_back_and_claims_nothing_more()
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = new ProbeHandler("test.slow") { Body = async (_, ct) => { started.TrySetResult(); await Task.Delay(TimeSpan.FromMinutes(1), ct); } };
        var host = await WorkHost.StartAsync(fx, s => s.AddSingleton<IJobHandler>(probe));
        await using (host)
        {
            var id = await host.EnqueueAsync("test.slow", new { });
            await started.Task.WaitAsync(TimeSpan.FromSeconds(15), Ct);
            var jobs = host.Jobs;
            await host.Host.StopAsync(Ct);

            var job = (await host.JobAsync(id))!;
            Assert.Equal(("pending", 0, null), (job.State, job.Attempts, job.LockedUntil));
            Assert.Equal("Interrupted by shutdown; handed back to the queue.", job.LastError);

            await using var conn = await host.OpenAsync();
            var afterStop = await jobs.EnqueueAsync(conn, null, "test.slow", new { }, null, Ct);
            await Task.Delay(700, Ct);
            Assert.Equal("pending", (await host.JobAsync(afterStop))!.State);
            Assert.Equal([id], probe.Runs.Select(r => r.JobId));
        }
    }

    [Fact]
    public void Retry_delays_double_from_the_base_up_to_the_cap_with_at_most_half_again_as_jitter()
    {
        var o = new WorkOptions { RetryBaseDelay = TimeSpan.FromSeconds(10), RetryMaxDelay = TimeSpan.FromMinutes(1) };
        Assert.Equal(TimeSpan.FromSeconds(10), JobWorker.RetryDelay(1, o, 0));
        Assert.Equal(TimeSpan.FromSeconds(40), JobWorker.RetryDelay(3, o, 0));
        Assert.Equal(TimeSpan.FromSeconds(60), JobWorker.RetryDelay(4, o, 0));
        Assert.Equal(TimeSpan.FromSeconds(90), JobWorker.RetryDelay(30, o, 1));
        Assert.Equal(TimeSpan.FromSeconds(15), JobWorker.RetryDelay(1, o, 1));
    }

    [Fact]
    public async Task Enqueueing_a_kind_without_a_handler_is_refused()
    {
        await using var conn = new Npgsql.NpgsqlConnection(fx.Database.ConnectionString);
        await conn.OpenAsync(Ct);
        var jobs = fx.Host.Services.GetRequiredService<Jobs>();
        var e = await Assert.ThrowsAsync<ArgumentException>(() => jobs.EnqueueAsync(conn, null, "no.such.kind", new { }, null, Ct));
        Assert.Contains("no.such.kind", e.Message, StringComparison.Ordinal);
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using Dapper;
using Npgsql;
using Slices.Tests.Features.Restaurant;
using Slices.Tests.Infrastructure;
using Slices.Tests.Work;

namespace Slices.Tests.Reliability;

// SIGTERM, as `docker stop` or Kubernetes sends it, to the service running as a real process: it stops accepting,
// answers what it had accepted, hands running jobs back at once and closes chat sockets with 1001, then exits 0.
public sealed class ShutdownTests(SlicesFixture fx)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sigterm_under_load_stops_accepting_fails_no_accepted_request_and_exits_once_those_in_flight_are_answered()
    {
        var database = await fx.Database.CreateDatabaseAsync($"sigterm_{Guid.NewGuid():N}");
        await using var service = await ServiceProcess.StartAsync(database, new Dictionary<string, string?> { ["Shutdown:Timeout"] = "00:00:30" });
        var user = await service.Api.SignUpAsync();

        // Slow requests: a lock the test holds keeps eight cassette lists waiting inside the service across the signal.
        await using var locker = new NpgsqlConnection(database);
        await locker.OpenAsync(Ct);
        await using var held = await locker.BeginTransactionAsync(Ct);
        await locker.ExecuteAsync("LOCK TABLE cassettes IN ACCESS EXCLUSIVE MODE", transaction: held);
        var slow = Enumerable.Range(0, 8).Select(_ => service.Api.GetAsync("/api/cassettes", user.Token)).ToList();
        // Read on a connection of its own: within the locking transaction, pg_stat_activity would be read once and kept.
        long waiting = 0;
        await Eventually.HoldsAsync(
            async () =>
            {
                await using var watcher = new NpgsqlConnection(database);
                return (waiting = await watcher.ExecuteScalarAsync<long>(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%FROM cassettes%'")) == slow.Count;
            },
            () => $"{waiting} of the {slow.Count} slow requests wait for the lock");

        // Fast requests from six clients in a loop, before, across and after the signal.
        var signalled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var answered = 0;
        var refusedBeforeSignal = 0;
        var refusedWhileDraining = 0;
        var failures = new ConcurrentQueue<string>();
        async Task LoadAsync(int client)
        {
            for (var i = 0; !service.HasExited && i < 20_000; i++)
            {
                try
                {
                    var reply = client % 2 == 0 ? await service.Api.GetAsync("/api/users/me", user.Token) : await service.Api.GetAsync("/health/ready");
                    if (reply.Status == HttpStatusCode.OK)
                    {
                        Interlocked.Increment(ref answered);
                    }
                    else
                    {
                        failures.Enqueue($"{reply.Status} {reply.Body?.ToJsonString()}");
                    }
                }
                catch (HttpRequestException e) when (e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
                {
                    // Not accepted: the listener is closed. Fine once the signal is sent, and only then.
                    if (signalled.Task.IsCompleted)
                    {
                        Interlocked.Increment(ref refusedWhileDraining);
                    }
                    else
                    {
                        Interlocked.Increment(ref refusedBeforeSignal);
                    }

                    await Task.Delay(10, Ct);
                }
#pragma warning disable CA1031 // Every other outcome is a request the service accepted and failed: the test reports them all.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    failures.Enqueue($"{e.GetType().Name}: {e.Message} {e.InnerException?.Message}");
                }
            }
        }

        var load = Enumerable.Range(0, 6).Select(LoadAsync).ToList();
        await Eventually.HoldsAsync(() => Volatile.Read(ref answered) >= 50, () => $"{answered} requests answered before the signal; failures: {string.Join(" | ", failures.Take(5))}");
        signalled.SetResult();
        await service.TerminateAsync();

        // The listener closes at once; the service waits for the accepted slow requests, a second here.
        await Eventually.HoldsAsync(() => Volatile.Read(ref refusedWhileDraining) > 0, () => "new connections are still accepted after SIGTERM", seconds: 10);
        await Task.Delay(1000, Ct);
        Assert.All(slow, r => Assert.False(r.IsCompleted));
        Assert.False(service.HasExited);

        await held.RollbackAsync(Ct);
        var released = Stopwatch.StartNew();
        Assert.All(await Task.WhenAll(slow), r => r.Is(HttpStatusCode.OK));
        Assert.Equal(0, await service.ExitCodeAsync(TimeSpan.FromSeconds(15)));
        Assert.True(released.Elapsed < TimeSpan.FromSeconds(10), $"the service took {released.Elapsed.TotalSeconds:0.0} s to exit once its last requests were answered");
        await Task.WhenAll(load);

        Assert.True(failures.IsEmpty, $"{failures.Count} accepted requests failed: {string.Join(" | ", failures.Take(5))}");
        Assert.Equal(0, refusedBeforeSignal);
    }

    [Fact]
    public async Task Sigterm_hands_a_running_job_back_at_once_and_the_restarted_service_runs_it_without_waiting_out_the_lease()
    {
        var database = await fx.Database.CreateDatabaseAsync($"sigterm_job_{Guid.NewGuid():N}");
        await using var accounting = await WebhookReceiver.StartAsync();
        accounting.Hold();
        var settings = new Dictionary<string, string?>
        {
            ["Restaurant:Accounting:Url"] = accounting.Url,
            ["Restaurant:Accounting:Secret"] = "shutdown-test-secret",
            // A lease of a minute (the default): the job must run again before the lease it held at SIGTERM runs out.
            ["Work:LeaseDuration"] = "00:01:00",
        };

        DateTime leaseEnd;
        await using (var first = await ServiceProcess.StartAsync(database, settings))
        {
            var admin = (await first.Api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;
            await first.Api.RequestIdAsync(await first.Api.NewTableIdAsync(admin), RestaurantTestData.Future(days: 12), email: RestaurantTestData.Email());
            // The delivery is at the receiver, which holds it: the job is running on a lease of a minute.
            await Eventually.HoldsAsync(() => !accounting.Requests.IsEmpty, () => "the webhook was not delivered");
            var running = await WebhookJobAsync(database);
            Assert.Equal("running", running.State);
            leaseEnd = running.LockedUntil!.Value;

            var sw = Stopwatch.StartNew();
            await first.TerminateAsync();
            Assert.Equal(0, await first.ExitCodeAsync(TimeSpan.FromSeconds(15)));
            Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"the service took {sw.Elapsed.TotalSeconds:0.0} s to exit");
            Assert.True(first.Output.Any(l => l.Contains("interrupted by shutdown; handed back to the queue", StringComparison.Ordinal)), string.Join('\n', first.Output));
        }

        var job = await WebhookJobAsync(database);
        Assert.Equal(("pending", 0, null, null), (job.State, job.Attempts, job.LockedUntil, job.LockToken));
        Assert.Equal("Interrupted by shutdown; handed back to the queue.", job.LastError);

        accounting.Release();
        await using var second = await ServiceProcess.StartAsync(database, settings);
        await Eventually.HoldsAsync(async () => (await WebhookJobAsync(database)).State == "succeeded", () => "the handed-back job did not run again");
        Assert.True(DateTime.UtcNow < leaseEnd, $"the job ran again only after the lease it held at SIGTERM ran out ({leaseEnd:O})");
        Assert.Equal(2, accounting.Requests.Count);
        Assert.Single(accounting.Requests.Select(r => r.Header("X-Delivery-Id")).Distinct());
        Assert.Equal(1, (await WebhookJobAsync(database)).Attempts);
    }

    [Fact]
    public async Task Sigterm_closes_chat_sockets_with_1001_and_exits_without_waiting_for_the_shutdown_timeout()
    {
        var database = await fx.Database.CreateDatabaseAsync($"sigterm_chat_{Guid.NewGuid():N}");
        await using var service = await ServiceProcess.StartAsync(database, new Dictionary<string, string?> { ["Shutdown:Timeout"] = "00:00:30" });
        var user = await service.Api.SignUpAsync();
        await using var chat = await ChatClient.ConnectAsync(service.Address, user.Token);
        await chat.JoinAsync("lobby");

        var sw = Stopwatch.StartNew();
        await service.TerminateAsync();

        Assert.Null(await chat.ReceiveAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, chat.CloseStatus);
        await chat.AnswerCloseAsync();
        Assert.Equal(0, await service.ExitCodeAsync(TimeSpan.FromSeconds(15)));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"the service took {sw.Elapsed.TotalSeconds:0.0} s to exit");
    }

    private sealed record WebhookJob(string State, int Attempts, DateTime? LockedUntil, Guid? LockToken, string? LastError);

    private static async Task<WebhookJob> WebhookJobAsync(string database)
    {
        await using var conn = new NpgsqlConnection(database);
        return await conn.QuerySingleAsync<WebhookJob>(
            "SELECT state, attempts, locked_until AS lockeduntil, lock_token AS locktoken, last_error AS lasterror FROM jobs WHERE kind = 'webhook.deliver'");
    }
}

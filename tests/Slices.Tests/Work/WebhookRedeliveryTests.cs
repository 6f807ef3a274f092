using System.Net;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Slices.Api.Common.Work;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Work;

// An instance whose webhook jobs give up after three attempts, shared by the redelivery tests (each has its own receiver).
public sealed class RedeliveryHost(SlicesFixture fx) : IAsyncLifetime
{
    public WorkHost Work { get; private set; } = null!;

    public string Admin { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        Work = await WorkHost.StartAsync(fx, settings: new Dictionary<string, string?> { ["Work:MaxAttempts"] = "3" });
        Admin = (await Work.Api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;
    }

    public async ValueTask DisposeAsync() => await Work.DisposeAsync();
}

// Redelivering a failed webhook and retrying its job by hand, alone, one after the other or all at once: one job delivers it.
public sealed class WebhookRedeliveryTests(RedeliveryHost h) : IClassFixture<RedeliveryHost>
{
    private const string LiveJobs = """
        SELECT count(*) FROM jobs WHERE kind = 'webhook.deliver' AND payload ->> 'delivery_id' = @deliveryId::text AND state IN ('pending', 'running')
        """;

    private ApiClient Api => h.Work.Api;

    // A delivery to receiver that failed its three attempts (503); its job is failed before the delivery is.
    private async Task<(long Id, Guid DeliveryId, long Job)> FailedAsync(WebhookReceiver receiver)
    {
        receiver.Otherwise = 503;
        long id;
        await using (var conn = await h.Work.OpenAsync())
        {
            id = await h.Work.Outbox.WebhookAsync(conn, null, receiver.Url, "test.redelivery", new { n = 1 }, "secret", TestContext.Current.CancellationToken);
        }

        await Eventually.HoldsAsync(async () => await StateAsync(id) == "failed", () => $"{receiver.Requests.Count} requests");
        var job = await h.Work.ScalarAsync<long>("SELECT job_id FROM webhook_deliveries WHERE id = @id", new { id });
        Assert.Equal("failed", (await h.Work.JobAsync(job))!.State);
        var deliveryId = await h.Work.ScalarAsync<Guid>("SELECT delivery_id FROM webhook_deliveries WHERE id = @id", new { id });
        Assert.Equal(3, Sent(receiver, deliveryId));
        receiver.Otherwise = 204;
        return (id, deliveryId, job);
    }

    // Requests the receiver got for this delivery (a port can be reused by a later test's receiver).
    private static int Sent(WebhookReceiver receiver, Guid deliveryId) =>
        receiver.Requests.Count(r => r.Header("X-Delivery-Id") == deliveryId.ToString());

    private Task<string> StateAsync(long id) => h.Work.ScalarAsync<string>("SELECT state FROM webhook_deliveries WHERE id = @id", new { id });

    // Waits until the first request after the three failures is at the receiver, held there (its job running).
    private static Task HeldAtReceiverAsync(WebhookReceiver receiver, Guid deliveryId) =>
        Eventually.HoldsAsync(() => Sent(receiver, deliveryId) == 4, () => $"{Sent(receiver, deliveryId)} requests");

    // Lets the receiver answer; once the delivery is delivered and none of its jobs can run any more, it went out exactly
    // once more, by the one job it ever had.
    private async Task DeliveredOnceMoreAsync(WebhookReceiver receiver, long id, Guid deliveryId)
    {
        receiver.Release();
        await Eventually.HoldsAsync(
            async () => await StateAsync(id) == "delivered" && await h.Work.ScalarAsync<long>(LiveJobs, new { deliveryId }) == 0,
            () => $"delivery {id} not settled");
        Assert.Equal(1, await h.Work.ScalarAsync<long>("SELECT count(*) FROM jobs WHERE payload ->> 'delivery_id' = @deliveryId::text", new { deliveryId }));
        Assert.Equal(4, Sent(receiver, deliveryId));
    }

    private Task<Reply> RedeliverAsync(long id) => Api.PostAsync($"/api/admin/webhooks/{id}/redeliver", null, h.Admin);

    private Task<Reply> RetryAsync(long job) => Api.PostAsync($"/api/admin/jobs/{job}/retry", null, h.Admin);

    [Fact]
    public async Task A_webhook_job_retried_by_hand_reopens_its_delivery_so_redeliver_is_409_and_it_arrives_once()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (id, deliveryId, job) = await FailedAsync(receiver);
        receiver.Hold();

        Assert.Equal("pending", (await RetryAsync(job)).Is(HttpStatusCode.Accepted).Body!["state"]!.GetValue<string>());
        var detail = (await Api.GetAsync($"/api/admin/webhooks/{id}", h.Admin)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal("pending", detail["state"]!.GetValue<string>());
        Assert.Equal(job, detail["job"]!.GetValue<long>());
        // The retried job is at the receiver, waiting for its answer, when the admin also presses Redeliver.
        await HeldAtReceiverAsync(receiver, deliveryId);
        var refused = (await RedeliverAsync(id)).IsProblem(HttpStatusCode.Conflict, "webhook_not_failed");
        Assert.Contains("this one is pending", refused.Body!["detail"]!.GetValue<string>(), StringComparison.Ordinal);

        await DeliveredOnceMoreAsync(receiver, id, deliveryId);
        Assert.Equal("succeeded", (await h.Work.JobAsync(job))!.State);
    }

    [Fact]
    public async Task Parallel_redeliveries_of_a_failed_webhook_send_it_once_more()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (id, deliveryId, job) = await FailedAsync(receiver);

        var replies = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => RedeliverAsync(id)));

        var accepted = Assert.Single(replies, r => r.Status == HttpStatusCode.Accepted);
        Assert.Equal(job, accepted.Body!["job"]!.GetValue<long>());
        Assert.All(replies.Where(r => r != accepted), r => r.IsProblem(HttpStatusCode.Conflict, "webhook_not_failed"));
        await DeliveredOnceMoreAsync(receiver, id, deliveryId);
    }

    [Fact]
    public async Task Redeliver_and_job_retry_pressed_together_queue_a_failed_webhook_once()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (id, deliveryId, job) = await FailedAsync(receiver);

        var replies = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => i % 2 == 0 ? RedeliverAsync(id) : RetryAsync(job)));

        Assert.Single(replies, r => r.Status == HttpStatusCode.Accepted);
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.Accepted), r =>
        {
            r.Is(HttpStatusCode.Conflict);
            Assert.True(r.ProblemCode is "webhook_not_failed" or "job_not_failed", r.ProblemCode);
        });
        await DeliveredOnceMoreAsync(receiver, id, deliveryId);
    }

    [Fact]
    public async Task A_failed_delivery_whose_job_is_already_queued_again_is_left_to_that_job()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (id, deliveryId, job) = await FailedAsync(receiver);
        receiver.Hold();
        // What a job retry did before it reopened the delivery too (and what migration 0015 repairs): job queued, delivery failed.
        await h.Work.ScalarAsync<int>(
            "UPDATE jobs SET state = 'pending', attempts = 0, run_at = now(), finished_at = NULL WHERE id = @job RETURNING 1; SELECT pg_notify('slices_jobs', '')",
            new { job });
        await HeldAtReceiverAsync(receiver, deliveryId);

        var redelivered = (await RedeliverAsync(id)).Is(HttpStatusCode.Accepted).Body!;
        Assert.Equal("pending", redelivered["state"]!.GetValue<string>());
        Assert.Equal(job, redelivered["job"]!.GetValue<long>());

        await DeliveredOnceMoreAsync(receiver, id, deliveryId);
    }

    [Fact]
    public async Task A_failure_hook_that_runs_after_its_job_was_queued_again_leaves_the_delivery_pending()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var (id, deliveryId, job) = await FailedAsync(receiver);
        receiver.Hold();
        (await RetryAsync(job)).Is(HttpStatusCode.Accepted);
        await HeldAtReceiverAsync(receiver, deliveryId);

        // The hook of the run that gave up, late: the worker records the job failed first and calls the hook after,
        // so an admin's retry can come in between.
        await using (var scope = h.Work.Host.Services.CreateAsyncScope())
        {
            var handler = scope.ServiceProvider.GetServices<IJobHandler>().Single(x => x.Kind == WebhookDelivery.JobKind);
            var payload = JsonSerializer.SerializeToElement(new WebhookDelivery.WebhookJob(deliveryId), Jobs.JsonOptions);
            await handler.OnFailedAsync(new Job(job, WebhookDelivery.JobKind, payload, 3, 3, DateTime.UtcNow, DateTime.UtcNow), "503", TestContext.Current.CancellationToken);
        }

        Assert.Equal("pending", await StateAsync(id));
        await DeliveredOnceMoreAsync(receiver, id, deliveryId);
    }
}

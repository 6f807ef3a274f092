using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;
using Slices.Api.Common.Work;

namespace Slices.Api.Features.Work;

public static class RedeliverWebhook
{
    public sealed record RedeliverWebhookCommand(long Id) : ICommand<Result<WebhookSummary>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/admin/webhooks/{id:long}/redeliver",
                async Task<Results<Accepted<WebhookSummary>, ProblemHttpResult>> (long id, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new RedeliverWebhookCommand(id), ct)).ToHttp(v => TypedResults.Accepted($"/api/admin/webhooks/{v.Id}", v)))
            .WithName("RedeliverWebhook").WithTags("Work").WithSummary("Send a failed webhook again: same body, signature and X-Delivery-Id, a fresh set of attempts")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    // One job delivers a delivery at a time. The delivery row is locked first (by the compare-and-swap that reopens it, so of
    // concurrent calls one wins and the others find it pending: 409), then its job's row: the order RetryJob and
    // WebhookDelivery.OnFailedAsync take them in. A job retried by hand reopens its delivery too (and migration 0015 reopened
    // those an earlier retry left failed), so a failed delivery's job has given up; should one still be pending or running,
    // it is left to deliver it.
    public sealed class Handler(NpgsqlDataSource db, Jobs jobs) : ICommandHandler<RedeliverWebhookCommand, Result<WebhookSummary>>
    {
        private const string Reopen = """
            UPDATE webhook_deliveries SET state = 'pending' WHERE id = @id AND state = 'failed' RETURNING delivery_id, job_id
            """;

        private const string LockJob = "SELECT state FROM jobs WHERE id = @jobId FOR UPDATE";

        public async ValueTask<Result<WebhookSummary>> Handle(RedeliverWebhookCommand c, CancellationToken ct) =>
            await db.InTransactionAsync<Result<WebhookSummary>>(async (conn, tx) =>
            {
                var reopened = await conn.QuerySingleOrDefaultAsync<Reopened>(new CommandDefinition(Reopen, new { id = c.Id }, tx, cancellationToken: ct));
                if (reopened is { } r)
                {
                    var jobState = r.JobId is { } jobId
                        ? await conn.ExecuteScalarAsync<string?>(new CommandDefinition(LockJob, new { jobId }, tx, cancellationToken: ct))
                        : null;
                    switch (jobState)
                    {
                        case "failed":
                            // The same job again, with a fresh set of attempts.
                            await jobs.RetryAsync(conn, tx, r.JobId!.Value, ct);
                            break;
                        case "pending" or "running":
                            // Already queued again: a second job would send it twice.
                            break;
                        default:
                            // No failed job to put back (the delivery was written without one): a new one.
                            var newJob = await jobs.EnqueueAsync(conn, tx, WebhookDelivery.JobKind, new WebhookDelivery.WebhookJob(r.DeliveryId), null, ct);
                            await conn.ExecuteAsync(new CommandDefinition(
                                "UPDATE webhook_deliveries SET job_id = @newJob WHERE id = @id", new { newJob, id = c.Id }, tx, cancellationToken: ct));
                            break;
                    }
                }

                var delivery = await conn.QuerySingleOrDefaultAsync<WebhookSummary>(new CommandDefinition(
                    $"{WebhookDeliveries.SelectSummary} WHERE d.id = @id", new { id = c.Id }, tx, cancellationToken: ct));
                return (delivery, reopened) switch
                {
                    (null, _) => Failure.NotFound("Webhook delivery"),
                    (_, null) => Failure.Conflict("webhook_not_failed", $"Only a failed delivery can be redelivered; this one is {delivery.State}."),
                    _ => delivery,
                };
            }, ct);

        private sealed record Reopened(Guid DeliveryId, long? JobId);
    }
}

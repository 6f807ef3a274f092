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

    public sealed class Handler(NpgsqlDataSource db, Jobs jobs) : ICommandHandler<RedeliverWebhookCommand, Result<WebhookSummary>>
    {
        private const string Reopen = """
            UPDATE webhook_deliveries SET state = 'pending' WHERE id = @id AND state = 'failed' RETURNING delivery_id, job_id
            """;

        public async ValueTask<Result<WebhookSummary>> Handle(RedeliverWebhookCommand c, CancellationToken ct) =>
            await db.InTransactionAsync<Result<WebhookSummary>>(async (conn, tx) =>
            {
                var reopened = await conn.QuerySingleOrDefaultAsync<Reopened>(new CommandDefinition(Reopen, new { id = c.Id }, tx, cancellationToken: ct));
                if (reopened is { } r && (r.JobId is not { } jobId || !await jobs.RetryAsync(conn, tx, jobId, ct)))
                {
                    // Its job is gone or was already put back by hand: a new one delivers it.
                    var newJob = await jobs.EnqueueAsync(conn, tx, WebhookDelivery.JobKind, new WebhookDelivery.WebhookJob(r.DeliveryId), null, ct);
                    await conn.ExecuteAsync(new CommandDefinition("UPDATE webhook_deliveries SET job_id = @newJob WHERE id = @id", new { newJob, id = c.Id }, tx, cancellationToken: ct));
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

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

public static class RetryJob
{
    public sealed record RetryJobCommand(long Id) : ICommand<Result<JobView>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/admin/jobs/{id:long}/retry",
                async Task<Results<Accepted<JobView>, ProblemHttpResult>> (long id, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new RetryJobCommand(id), ct)).ToHttp(v => TypedResults.Accepted((string?)null, v)))
            .WithName("RetryJob").WithTags("Work").WithSummary("Queue a failed job again, due now, with a fresh set of attempts")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    // A webhook job's delivery goes back to pending with it, so that RedeliverWebhook answers 409 instead of queueing a second
    // job for it; an email job's outbox row too, so that it does not read "failed" while the email waits to be sent (and a
    // second failure marks it failed again). The outbox row is locked (by that UPDATE) before the job's, the order
    // RedeliverWebhook takes them in; a job that is not failed rolls the UPDATE back with the rest.
    public sealed class Handler(NpgsqlDataSource db, Jobs jobs) : ICommandHandler<RetryJobCommand, Result<JobView>>
    {
        private const string ReopenOutboxRow = """
            WITH email AS (UPDATE outbox_emails SET state = 'pending' WHERE job_id = @id AND state = 'failed')
            UPDATE webhook_deliveries SET state = 'pending' WHERE job_id = @id AND state = 'failed'
            """;

        public async ValueTask<Result<JobView>> Handle(RetryJobCommand c, CancellationToken ct) =>
            await db.InTransactionAsync<Result<JobView>>(async (conn, tx) =>
            {
                await conn.ExecuteAsync(new CommandDefinition(ReopenOutboxRow, new { id = c.Id }, tx, cancellationToken: ct));
                var retried = await jobs.RetryAsync(conn, tx, c.Id, ct);
                var job = await Jobs.FindAsync(conn, tx, c.Id, ct);
                return (job, retried) switch
                {
                    (null, _) => Failure.NotFound("Job"),
                    (_, false) => Failure.Conflict("job_not_failed", $"Only a failed job can be retried; this one is {job.State}."),
                    _ => job,
                };
            }, ct);
    }
}

using System.Security.Claims;
using System.Text.RegularExpressions;
using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;
using Slices.Api.Common.Work;

namespace Slices.Api.Features.Events;

// A delayed creation as its creator sees it: `pending`, `succeeded` with the event, or `failed` with why.
public sealed record EventJobStatus(long JobId, string Status, DateTime RunAt, EventDetail? Event, string? Error);

public static partial class GetEventJob
{
    // What the creator may read of a failure: one they can act on is recorded as "code: detail" (CreateEvent's
    // permanent failures, e.g. an organization deleted while the event waited); anything else is the service's own
    // trouble, whose text (exception types, database messages) only admins see, in /api/admin/jobs.
    private const string InternalFailure = "The event could not be created because of an error in the service; an administrator can see why and retry it.";

    [GeneratedRegex("^[a-z][a-z_]*: ")]
    private static partial Regex ClientFailure();

    private static string CreatorError(string? recorded) =>
        recorded is not null && ClientFailure().IsMatch(recorded) ? recorded : InternalFailure;

    public sealed record GetEventJobQuery(long JobId, Caller Caller) : IQuery<Result<EventJobStatus>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/events/jobs/{job_id:long}",
                async Task<Results<Ok<EventJobStatus>, ProblemHttpResult>> ([Microsoft.AspNetCore.Mvc.FromRoute(Name = "job_id")] long jobId, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new GetEventJobQuery(jobId, user.Caller()), ct)).ToHttp(TypedResults.Ok))
            .WithName("GetEventJob").WithTags("Events").WithSummary("The state of a delayed event creation (its creator or an admin)")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<GetEventJobQuery, Result<EventJobStatus>>
    {
        public async ValueTask<Result<EventJobStatus>> Handle(GetEventJobQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var job = await Jobs.FindAsync(conn, null, q.JobId, ct);
            if (job is not { Kind: CreateEvent.JobKind }
                || (!q.Caller.IsAdmin && job.Payload.GetProperty("created_by").GetInt64() != q.Caller.Id))
            {
                return Failure.NotFound("Event job");
            }

            switch (job.State)
            {
                case "succeeded":
                    var id = await conn.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
                        "SELECT id FROM events WHERE creation_job_id = @JobId", new { q.JobId }, cancellationToken: ct));
                    var created = id is { } found ? await Events.FindAsync(conn, found, ct) : null;
                    // The event may have been deleted since; the job still succeeded.
                    return new EventJobStatus(q.JobId, "succeeded", job.RunAt, created?.Value, created is null ? "The event was deleted after it was created." : null);
                case "failed":
                    return new EventJobStatus(q.JobId, "failed", job.RunAt, null, CreatorError(job.LastError));
                default:
                    return new EventJobStatus(q.JobId, "pending", job.RunAt, null, null);
            }
        }
    }
}

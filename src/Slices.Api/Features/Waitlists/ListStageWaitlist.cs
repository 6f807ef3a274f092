using System.Security.Claims;
using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Waitlists;

// An admin sees the stage's lines (one a date) in order; anyone else only their own entries in them.
public static class ListStageWaitlist
{
    public sealed record ListStageWaitlistQuery(long Id, Caller Caller) : IQuery<Result<IReadOnlyList<StageWaitlistEntry>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/stages/{id:long}/waitlist",
                async Task<Results<Ok<IReadOnlyList<StageWaitlistEntry>>, ProblemHttpResult>> (long id, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new ListStageWaitlistQuery(id, user.Caller()), ct)).ToHttp(TypedResults.Ok))
            .WithName("ListStageWaitlist").WithTags("Waitlists")
            .WithSummary("A stage's waitlists by date, each in order with positions (admin); anyone else sees only their own entries")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : IQueryHandler<ListStageWaitlistQuery, Result<IReadOnlyList<StageWaitlistEntry>>>
    {
        public async ValueTask<Result<IReadOnlyList<StageWaitlistEntry>>> Handle(ListStageWaitlistQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT EXISTS (SELECT 1 FROM stages WHERE id = @id)", new { id = q.Id }, cancellationToken: ct)))
            {
                return Failure.NotFound("Stage");
            }

            return await Waitlist.StageLineAsync(conn, q.Id, q.Caller.Id, all: q.Caller.IsAdmin, entry: null, clock.GetUtcNow().UtcDateTime, ct);
        }
    }
}

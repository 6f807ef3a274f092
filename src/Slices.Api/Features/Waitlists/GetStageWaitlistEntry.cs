using System.Security.Claims;
using Carter;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Waitlists;

// One entry of a stage's line, where joining's Location points: the caller's own (an admin: anyone's), with its
// position, while it is in line (waiting, or holding a live offer); anything else is 404.
public static class GetStageWaitlistEntry
{
    public sealed record GetStageWaitlistEntryQuery(long Stage, long Entry, Caller Caller) : IQuery<Result<StageWaitlistEntry>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/stages/{id:long}/waitlist/{entry:long}",
                async Task<Results<Ok<StageWaitlistEntry>, ProblemHttpResult>> (long id, long entry, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new GetStageWaitlistEntryQuery(id, entry, user.Caller()), ct)).ToHttp(TypedResults.Ok))
            .WithName("GetStageWaitlistEntry").WithTags("Waitlists")
            .WithSummary("Your entry in a stage slot's waitlist with its position (an admin: anyone's); 404 for anyone else's entry or one no longer in line")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : IQueryHandler<GetStageWaitlistEntryQuery, Result<StageWaitlistEntry>>
    {
        public async ValueTask<Result<StageWaitlistEntry>> Handle(GetStageWaitlistEntryQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var found = await Waitlist.StageLineAsync(conn, q.Stage, q.Caller.Id, all: q.Caller.IsAdmin, entry: q.Entry, clock.GetUtcNow().UtcDateTime, ct);
            return found.Count == 1 ? found[0] : Failure.NotFound("Waitlist entry");
        }
    }
}

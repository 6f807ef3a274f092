using System.Security.Claims;
using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Holds;

// Lets the place go at once (the trigger gives it back; a waitlist hears of it).
public static class ReleaseHold
{
    public sealed record ReleaseHoldCommand(long Id, Caller Caller, long? IfMatch) : ICommand<Result<Hold>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapDelete("/api/holds/{id:long}",
                async Task<Results<NoContent, ProblemHttpResult>> (long id, HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new ReleaseHoldCommand(id, user.Caller(), ETags.IfMatch(http)), ct)).ToHttp(_ => TypedResults.NoContent()))
            .WithName("ReleaseHold").WithTags("Holds").WithSummary("Release an active hold; 409 hold_expired / hold_not_active, 412 on a stale If-Match")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed);
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : ICommandHandler<ReleaseHoldCommand, Result<Hold>>
    {
        public async ValueTask<Result<Hold>> Handle(ReleaseHoldCommand c, CancellationToken ct)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var args = new { id = c.Id, user = c.Caller.Id, now, to = HoldStatus.Released, c.IfMatch };
            return await db.InTransactionAsync<Result<Hold>>(async (conn, tx) =>
            {
                await conn.ExecuteAsync(new CommandDefinition(Holds.LockTarget, args, tx, cancellationToken: ct));
                return (await Holds.QueryAsync(conn, Holds.EndActive, args, ct, tx)).SingleOrDefault()?.Value is { } released
                    ? released
                    : await Holds.NotActiveAsync(conn, tx, c.Id, c.Caller.Id, now, ct);
            }, ct);
        }
    }
}

using System.Security.Claims;
using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;
using HoldRows = Slices.Api.Features.Holds.Holds;

namespace Slices.Api.Features.Waitlists;

// Leaves a training's line; an offer the caller holds is released with it, and the place passes to the next person.
public static class LeaveTrainingWaitlist
{
    public sealed record LeaveTrainingWaitlistCommand(long Id, Caller Caller) : ICommand<Result<bool>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapDelete("/api/trainings/{id:long}/waitlist",
                async Task<Results<NoContent, ProblemHttpResult>> (long id, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new LeaveTrainingWaitlistCommand(id, user.Caller()), ct)).ToHttp(_ => TypedResults.NoContent()))
            .WithName("LeaveTrainingWaitlist").WithTags("Waitlists")
            .WithSummary("Leave a training's waitlist, releasing the offer you hold (404 when you are not in line)")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : ICommandHandler<LeaveTrainingWaitlistCommand, Result<bool>>
    {
        // The training's row first, then the hold (Holds.LockTarget's order); an offer whose time is up has lapsed already.
        private const string Lock = $"""
            SELECT id FROM trainings WHERE id = @training FOR NO KEY UPDATE;
            {HoldRows.ExpireDueTrainingPlaces};
            """;

        public async ValueTask<Result<bool>> Handle(LeaveTrainingWaitlistCommand c, CancellationToken ct)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            return await db.InTransactionAsync<Result<bool>>(async (conn, tx) =>
            {
                await conn.ExecuteAsync(new CommandDefinition(Lock, new { training = c.Id, now }, tx, cancellationToken: ct));
                return await Waitlist.LeaveAsync(conn, tx, c.Caller.Id, training: c.Id, entry: null, now, ct) ? true : Failure.NotFound("Waitlist entry");
            }, ct);
        }
    }
}

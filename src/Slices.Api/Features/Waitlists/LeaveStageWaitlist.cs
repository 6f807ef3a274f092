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

// Leaves a stage slot's line; an offer the caller holds is released with it, and the slot passes to the next person.
public static class LeaveStageWaitlist
{
    public sealed record LeaveStageWaitlistCommand(long Stage, long Entry, Caller Caller) : ICommand<Result<bool>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapDelete("/api/stages/{id:long}/waitlist/{entry:long}",
                async Task<Results<NoContent, ProblemHttpResult>> (long id, long entry, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new LeaveStageWaitlistCommand(id, entry, user.Caller()), ct)).ToHttp(_ => TypedResults.NoContent()))
            .WithName("LeaveStageWaitlist").WithTags("Waitlists")
            .WithSummary("Leave a stage slot's waitlist (your own entry), releasing the offer you hold; 404 for anyone else's entry or one no longer in line")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : ICommandHandler<LeaveStageWaitlistCommand, Result<bool>>
    {
        private const string Date = """
            SELECT date FROM waitlist_entries
            WHERE id = @entry AND stage_id = @stage AND user_id = @caller AND status IN ('waiting', 'offered')
            """;

        // The stage's row first, then the hold (Holds.LockTarget's order); an offer whose time is up has lapsed already.
        private const string Lock = $"""
            SELECT id FROM stages WHERE id = @stage FOR NO KEY UPDATE;
            {HoldRows.ExpireDueStageSlots};
            """;

        public async ValueTask<Result<bool>> Handle(LeaveStageWaitlistCommand c, CancellationToken ct)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var args = new { stage = c.Stage, entry = c.Entry, caller = c.Caller.Id, now };
            return await db.InTransactionAsync<Result<bool>>(async (conn, tx) =>
            {
                if (await conn.QuerySingleOrDefaultAsync<DateOnly?>(new CommandDefinition(Date, args, tx, cancellationToken: ct)) is not { } date)
                {
                    return Failure.NotFound("Waitlist entry");
                }

                await conn.ExecuteAsync(new CommandDefinition(Lock, new { stage = c.Stage, date, now }, tx, cancellationToken: ct));
                return await Waitlist.LeaveAsync(conn, tx, c.Caller.Id, training: null, entry: c.Entry, now, ct) ? true : Failure.NotFound("Waitlist entry");
            }, ct);
        }
    }
}

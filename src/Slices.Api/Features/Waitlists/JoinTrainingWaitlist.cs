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
using TrainingRows = Slices.Api.Features.Trainings.Trainings;

namespace Slices.Api.Features.Waitlists;

// A member of the training's group gets in line for a place in a full training. Full means: no place is free, or
// people are waiting already (a freed place is theirs, OfferPlaces). With a place free and nobody waiting, enrol instead.
public static class JoinTrainingWaitlist
{
    public sealed record JoinTrainingWaitlistCommand(long Id, Caller Caller) : ICommand<Result<TrainingWaitlistEntry>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/trainings/{id:long}/waitlist",
                async Task<Results<Created<TrainingWaitlistEntry>, ProblemHttpResult>> (long id, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new JoinTrainingWaitlistCommand(id, user.Caller()), ct)).ToHttp(e => TypedResults.Created($"/api/trainings/{id}/waitlist", e)))
            .WithName("JoinTrainingWaitlist").WithTags("Waitlists")
            .WithSummary("Get in line for a place in a full training of your group; a freed place is offered to the first in line as a hold. "
                + "409 training_not_full (enrol instead), already_enrolled, already_held, already_waiting")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .Idempotent();
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : ICommandHandler<JoinTrainingWaitlistCommand, Result<TrainingWaitlistEntry>>
    {
        // As an enrolment locks them (EnrollInTraining): the user's row, then the training's; under that lock the
        // training's holds whose time is up let their places go.
        private const string Lock = $"""
            SELECT id FROM users WHERE id = @caller FOR KEY SHARE;
            SELECT id FROM trainings WHERE id = @training FOR NO KEY UPDATE;
            {HoldRows.ExpireDueTrainingPlaces};
            """;

        private const string Training = $"""
            SELECT EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = t.group_id AND gm.user_id = @caller) AS member,
                   EXISTS (SELECT 1 FROM training_enrollments e WHERE e.training_id = t.id AND e.user_id = @caller) AS enrolled,
                   EXISTS (SELECT 1 FROM holds h WHERE h.training_id = t.id AND h.user_id = @caller AND h.status = 'active' AND NOT h.offer) AS holding,
                   t.capacity IS NOT NULL
                   AND (t.enrolled + t.held >= t.capacity
                        OR EXISTS (SELECT 1 FROM waitlist_entries w WHERE w.training_id = t.id AND w.status = 'waiting')) AS full
            FROM trainings t WHERE t.id = @training AND {TrainingRows.VisibleToCaller}
            """;

        // A second entry of the caller is waitlist_entries_one_per_training: 409 already_waiting.
        private const string Insert = """
            INSERT INTO waitlist_entries (user_id, training_id, created_at, updated_at) VALUES (@caller, @training, @now, @now) RETURNING id
            """;

        public async ValueTask<Result<TrainingWaitlistEntry>> Handle(JoinTrainingWaitlistCommand c, CancellationToken ct)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var args = new { training = c.Id, caller = c.Caller.Id, admin = c.Caller.IsAdmin, now };
            return await db.InTransactionAsync<Result<TrainingWaitlistEntry>>(async (conn, tx) =>
            {
                await conn.ExecuteAsync(new CommandDefinition(Lock, args, tx, cancellationToken: ct));
                var t = await conn.QuerySingleOrDefaultAsync<TrainingRow>(new CommandDefinition(Training, args, tx, cancellationToken: ct));
                Failure? refused = t switch
                {
                    null => Failure.NotFound("Training"),
                    { Member: false } => new Failure(StatusCodes.Status403Forbidden, "not_a_group_member", "Only members of the training's group can wait for a place."),
                    { Enrolled: true } => Failure.Conflict("already_enrolled", "You are already enrolled in this training."),
                    { Holding: true } => Failure.Conflict("already_held", "You hold a place in this training already: confirm it (POST /api/holds/{id}/confirm)."),
                    { Full: false } => Failure.Conflict("training_not_full", "The training has a free place: enrol instead (POST /api/trainings/{id}/enroll)."),
                    _ => null,
                };
                if (refused is not null)
                {
                    return refused;
                }

                var id = await conn.ExecuteScalarAsync<long>(new CommandDefinition(Insert, args, tx, cancellationToken: ct));
                return (await Waitlist.TrainingLineAsync(conn, c.Id, c.Caller.Id, all: false, now, ct, tx)).Single(e => e.Id == id);
            }, ct);
        }

        private sealed record TrainingRow(bool Member, bool Enrolled, bool Holding, bool Full);
    }
}

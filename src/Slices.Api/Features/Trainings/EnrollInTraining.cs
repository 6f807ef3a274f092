using System.Security.Claims;
using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;
using Slices.Api.Features.Waitlists;

[assembly: PgConstraint("training_enrollments_pkey", 409, "already_enrolled", "You are already enrolled in this training.")]
[assembly: PgConstraint("trainings_within_capacity", 409, "training_full", "The training has no free place: its capacity would be exceeded.")]

namespace Slices.Api.Features.Trainings;

// A member of the training's group takes a place. Capacity is the database's decision: the enrolment's trigger
// raises `trainings.enrolled` under the training's row lock, and its CHECK (enrolled + held <= capacity) refuses the
// place past capacity, so parallel enrolments and holds can never exceed it.
public static class EnrollInTraining
{
    public sealed record EnrollInTrainingCommand(long Id, Caller Caller) : ICommand<Result<Training>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/trainings/{id:long}/enroll",
                async Task<Results<Ok<Training>, ProblemHttpResult>> (long id, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new EnrollInTrainingCommand(id, user.Caller()), ct)).ToHttp(TypedResults.Ok))
            .WithName("EnrollInTraining").WithTags("Trainings")
            .WithSummary("Join a training of your group; 409 training_full past capacity, 409 already_enrolled the second time")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .Idempotent();
    }

    // The training's row is locked, by a statement of its own, before the membership is read: a removal from the group
    // (db/0014's trigger locks the group's upcoming trainings) or a move of the training that holds the row is waited
    // for and its outcome seen; one that comes later waits for this enrolment and then gives its place up. The user's
    // row before it (key share, as the enrolment's foreign key takes it anyway), as membership writes lock users before
    // trainings: a profile write changing the username locks the user's row for update, then a left group's trainings.
    // Under the training's lock its holds whose time is up let their places go (db/0020).
    private const string Lock = $"""
        SELECT id FROM users WHERE id = @caller FOR KEY SHARE;
        SELECT id FROM trainings WHERE id = @id FOR NO KEY UPDATE;
        {Holds.Holds.ExpireDueTrainingPlaces};
        """;

    // While anyone waits for a place, a freed place is theirs (Waitlists): only a hold's confirm (@jump) takes one then.
    private const string Enroll = """
        INSERT INTO training_enrollments (training_id, user_id, enrolled_at)
        SELECT t.id, @caller, @now FROM trainings t
        WHERE t.id = @id AND EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = t.group_id AND gm.user_id = @caller)
          AND (@jump OR NOT EXISTS (SELECT 1 FROM waitlist_entries w WHERE w.training_id = t.id AND w.status = 'waiting'))
        """;

    private const string WaitingForMember = """
        SELECT NOT @jump
           AND EXISTS (SELECT 1 FROM trainings t JOIN group_members gm ON gm.group_id = t.group_id WHERE t.id = @id AND gm.user_id = @caller)
           AND EXISTS (SELECT 1 FROM waitlist_entries w WHERE w.training_id = @id AND w.status = 'waiting')
        """;

    // The enrolment, in the caller's transaction: what this route does, and (jump: true) what confirming a training
    // place's hold does.
    public static async Task<Result<Training>> EnrolAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long id, Caller caller, DateTime now, bool jump, CancellationToken ct)
    {
        var args = new { id, training = id, caller = caller.Id, admin = caller.IsAdmin, now, jump };
        await conn.ExecuteAsync(new CommandDefinition(Lock, args, tx, cancellationToken: ct));
        if (await conn.ExecuteAsync(new CommandDefinition(Enroll, args, tx, cancellationToken: ct)) == 0)
        {
            // Only an admin can see a training of a group they are not in; everyone else learns nothing. A member turned away
            // was turned away for the people waiting; anyone else (a membership gone, or back, meanwhile) is no member.
            if (await Trainings.FindAsync(conn, $"t.id = @id AND {Trainings.VisibleToCaller}", args, ct, tx) is null)
            {
                return Failure.NotFound("Training");
            }

            return await conn.ExecuteScalarAsync<bool>(new CommandDefinition(WaitingForMember, args, tx, cancellationToken: ct))
                ? Waitlist.PeopleWaiting
                : new Failure(StatusCodes.Status403Forbidden, "not_a_group_member", "Only members of the training's group can enrol.");
        }

        return (await Trainings.FindAsync(conn, "t.id = @id", args, ct, tx))!.Value.Training;
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : ICommandHandler<EnrollInTrainingCommand, Result<Training>>
    {
        public async ValueTask<Result<Training>> Handle(EnrollInTrainingCommand c, CancellationToken ct) =>
            await db.InTransactionAsync((conn, tx) => EnrolAsync(conn, tx, c.Id, c.Caller, clock.GetUtcNow().UtcDateTime, jump: false, ct), ct);
    }
}

using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

[assembly: PgConstraint("attendances_one_per_user_and_training", 409, "duplicate_attendance", "The user's attendance of this training is already recorded; change that record instead.")]
// The training was deleted after the insert had read it: the same answer as for a training that does not exist.
[assembly: PgConstraint("attendances_training_id_fkey", 400, "validation_failed", "training does not exist.", Field = "training")]

namespace Slices.Api.Features.Trainings;

public static class RecordAttendance
{
    public sealed record RecordAttendanceRequest(long? Training, long? User, string Status) : ICommand<Result<Attendance>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/attendances",
                async Task<Results<Created<Attendance>, ProblemHttpResult>> (RecordAttendanceRequest request, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(request, ct)).ToHttp(a => TypedResults.Created($"/api/attendances/{a.Id}", a)))
            .WithName("RecordAttendance").WithTags("Attendances")
            .WithSummary("Record whether a member of the training's group came; one record per user and training (409 duplicate_attendance)")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .Idempotent();
    }

    public sealed class Validator : AbstractValidator<RecordAttendanceRequest>
    {
        public Validator()
        {
            RuleFor(x => x.Training).NotNull();
            RuleFor(x => x.User).NotNull();
            RuleFor(x => x.Status).NotEmpty().KnownStatus();
        }
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : ICommandHandler<RecordAttendanceRequest, Result<Attendance>>
    {
        // Nothing is inserted unless the user is in the training's group; a second record is a unique violation.
        private const string Insert = """
            INSERT INTO attendances (training_id, user_id, status, marked_at)
            SELECT t.id, @User, @Status, @now FROM trainings t
            WHERE t.id = @Training AND EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = t.group_id AND gm.user_id = @User)
            RETURNING id, training_id AS training, user_id AS "user", status, marked_at
            """;

        private const string TrainingExists = "SELECT EXISTS (SELECT 1 FROM trainings WHERE id = @Training)";

        public async ValueTask<Result<Attendance>> Handle(RecordAttendanceRequest r, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var created = await conn.QuerySingleOrDefaultAsync<Attendance>(new CommandDefinition(
                Insert, new { r.Training, r.User, r.Status, now = clock.GetUtcNow().UtcDateTime }, cancellationToken: ct));
            if (created is not null)
            {
                return created;
            }

            return await conn.ExecuteScalarAsync<bool>(new CommandDefinition(TrainingExists, r, cancellationToken: ct))
                ? Failure.Invalid("user", "user is not a member of the training's group.")
                : Failure.Invalid("training", "training does not exist.");
        }
    }
}

using System.Security.Claims;
using System.Text.Json;
using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Trainings;

// PUT and PATCH of a training (admin). `users` is read-only. Lowering `capacity` below the number enrolled violates
// `trainings_within_capacity`: 409 `training_full`. Moving an upcoming training to another group (or rescheduling a past
// one to today or later) gives up the places of users who are not members of its group, in the same statement
// (db/0014's trigger on trainings); members of both groups keep theirs, and attendance records stay.
public static class UpdateTraining
{
    private static readonly string[] ReadOnly = ["id", "users"];

    public sealed record TrainingChanges(DateOnly? Date, TimeOnly? StartTime, TimeOnly? EndTime, decimal? Price, long? Group, int? Capacity)
    {
        public static TrainingChanges From(Training t) => new(t.Date, t.StartTime, t.EndTime, t.Price, t.Group, t.Capacity);
    }

    public sealed record ReplaceTrainingCommand(long Id, DateOnly? Date, TimeOnly? StartTime, TimeOnly? EndTime, decimal? Price, long? Group, int? Capacity, long? IfMatch)
        : ICommand<Result<Versioned<Training>>>, ITrainingFields
    {
        public ReplaceTrainingCommand(long id, TrainingChanges c, long? ifMatch)
            : this(id, c.Date, c.StartTime, c.EndTime, c.Price, c.Group, c.Capacity, ifMatch)
        {
        }
    }

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            app.MapPut("/api/trainings/{id:long}",
                    async Task<Results<Ok<Training>, StatusCodeHttpResult, ProblemHttpResult>> (long id, TrainingChanges body, HttpContext http, ISender mediator, CancellationToken ct) =>
                        (await mediator.Send(new ReplaceTrainingCommand(id, body, ETags.IfMatch(http)), ct)).ToHttp(http))
                .WithName("ReplaceTraining").WithTags("Trainings").WithSummary("Replace a training's date, times, price, group and capacity; moving an upcoming training to another group gives up the places of users outside it")
                .RequireAuthorization(CurrentUser.AdminPolicy)
                .WithProblems();
            app.MapPatch("/api/trainings/{id:long}",
                    (long id, JsonElement patch, HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct) => mediator.MergeAndReplaceAsync(
                        http, patch, new GetTraining.GetTrainingQuery(id, user.Caller()), TrainingChanges.From,
                        (changes, ifMatch) => new ReplaceTrainingCommand(id, changes, ifMatch), ReadOnly, ct))
                .WithName("UpdateTraining").WithTags("Trainings").WithSummary("Change only the members sent; users is read-only; moving an upcoming training to another group gives up the places of users outside it")
                .RequireAuthorization(CurrentUser.AdminPolicy)
                .Accepts<TrainingChanges>("application/json")
                .WithProblems();
        }
    }

    public sealed class Validator : TrainingFieldsValidator<ReplaceTrainingCommand>;

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<ReplaceTrainingCommand, Result<Versioned<Training>>>
    {
        // An update that moves the training to another group or changes its date locks the training's (new) group first,
        // groups before trainings as membership writes lock them: a removal from that group holds it for share
        // (UserProfiles.LockForMembership), so the two wait for each other, and whichever goes second sees what the first
        // did (db/0014's trigger on trainings gives up the places outside the group). An absent group locks nothing and
        // the UPDATE's foreign key answers.
        private const string LockGroup = "SELECT id FROM groups WHERE id = @Group FOR NO KEY UPDATE";

        private const string Update = $"""
            UPDATE trainings SET date = @Date, start_time = @StartTime, end_time = @EndTime, price = @Price, group_id = @Group, capacity = @Capacity
            WHERE id = @Id AND {ETags.Guard}
            """;

        // Any other update gives up no place (the trigger fires on neither column) and takes no group lock: it is tried
        // first, matching only while the row's group and date are still the command's. The foreign key is not checked
        // again either when group_id keeps its value. When it matches nothing it may still hold the training's row: a
        // concurrent write that moved the training makes PostgreSQL lock the row's newest version before it finds the
        // condition false, and keeps that lock. Taking the group lock after it would lock trainings before groups, against
        // the membership writes' order (deadlocks seen in EnrolmentsFollowMembershipTests), so the attempt runs in a
        // savepoint that is rolled back, releasing the row, before the full path locks the group.
        private const string UpdateInPlace = $"{Update} AND group_id = @Group AND date = @Date";

        public async ValueTask<Result<Versioned<Training>>> Handle(ReplaceTrainingCommand c, CancellationToken ct)
        {
            return await db.InTransactionAsync<Result<Versioned<Training>>>(async (conn, tx) =>
            {
                var args = new
                {
                    c.Id, Date = c.Date!.Value, StartTime = c.StartTime!.Value, EndTime = c.EndTime!.Value, Price = c.Price!.Value, Group = c.Group!.Value, c.Capacity, c.IfMatch,
                };
                await tx.SaveAsync("in_place", ct);
                var updated = await conn.ExecuteAsync(new CommandDefinition(UpdateInPlace, args, tx, cancellationToken: ct));
                if (updated == 0)
                {
                    // A move, a new date, or no row to update (absent, or another version than If-Match): the full path.
                    await tx.RollbackAsync("in_place", ct);
                    await conn.ExecuteAsync(new CommandDefinition(LockGroup, args, tx, cancellationToken: ct));
                    updated = await conn.ExecuteAsync(new CommandDefinition(Update, args, tx, cancellationToken: ct));
                }

                if (updated == 0)
                {
                    return await GuardedWrites.WhyMissedAsync(conn, "trainings", c.Id, "Training", ct, tx);
                }

                var (training, version) = (await Trainings.FindAsync(conn, "t.id = @id", new { id = c.Id }, ct, tx))!.Value;
                return new Versioned<Training>(training, version);
            }, ct);
        }
    }
}

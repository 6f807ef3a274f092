using System.Security.Claims;
using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Trainings;

public static class LeaveTraining
{
    public sealed record LeaveTrainingCommand(long Id, Caller Caller) : ICommand<Result<bool>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapDelete("/api/trainings/{id:long}/enroll",
                async Task<Results<NoContent, ProblemHttpResult>> (long id, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new LeaveTrainingCommand(id, user.Caller()), ct)).ToHttp(_ => TypedResults.NoContent()))
            .WithName("LeaveTraining").WithTags("Trainings").WithSummary("Give up your place in a training (404 when you are not enrolled)")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<LeaveTrainingCommand, Result<bool>>
    {
        // The enrolment's trigger lowers trainings.enrolled in the same statement. The training's row is locked before the
        // enrolment, the order in which a training's move or deletion takes them (db/0014), so the two cannot deadlock.
        private const string Leave = """
            WITH t AS (SELECT id FROM trainings WHERE id = @id FOR NO KEY UPDATE)
            DELETE FROM training_enrollments e USING t WHERE e.training_id = t.id AND e.user_id = @caller
            """;

        public async ValueTask<Result<bool>> Handle(LeaveTrainingCommand c, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await conn.ExecuteAsync(new CommandDefinition(Leave, new { id = c.Id, caller = c.Caller.Id }, cancellationToken: ct)) == 1
                ? true
                : Failure.NotFound("Enrolment");
        }
    }
}

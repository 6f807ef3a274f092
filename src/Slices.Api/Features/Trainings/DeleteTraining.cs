using Carter;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Trainings;

public static class DeleteTraining
{
    public sealed record DeleteTrainingCommand(long Id, long? IfMatch) : ICommand<Result<bool>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapDelete("/api/trainings/{id:long}",
                async Task<Results<NoContent, ProblemHttpResult>> (long id, HttpContext http, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new DeleteTrainingCommand(id, ETags.IfMatch(http)), ct)).ToHttp(_ => TypedResults.NoContent()))
            .WithName("DeleteTraining").WithTags("Trainings").WithSummary("Cancel a training: it goes with its enrolments and attendance records")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .WithProblems();
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<DeleteTrainingCommand, Result<bool>>
    {
        public async ValueTask<Result<bool>> Handle(DeleteTrainingCommand c, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await GuardedWrites.DeleteAsync(conn, "trainings", c.Id, c.IfMatch, "Training", ct);
        }
    }
}

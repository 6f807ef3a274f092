using Carter;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Stages;

public static class DeleteStage
{
    public sealed record DeleteStageCommand(long Id, long? IfMatch) : ICommand<Result<bool>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapDelete("/api/stages/{id:long}",
                async Task<Results<NoContent, ProblemHttpResult>> (long id, HttpContext http, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new DeleteStageCommand(id, ETags.IfMatch(http)), ct)).ToHttp(_ => TypedResults.NoContent()))
            .WithName("DeleteStage").WithTags("Stages").WithSummary("Delete a stage that has no bookings (409 in_use otherwise)")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .WithProblems();
    }

    public sealed class Handler(NpgsqlDataSource db, StageCache cache) : ICommandHandler<DeleteStageCommand, Result<bool>>
    {
        public async ValueTask<Result<bool>> Handle(DeleteStageCommand c, CancellationToken ct)
        {
            // Its service links go with it (CASCADE); any booking violates bookings_stage_id_fkey (RESTRICT): 409 in_use.
            await using var conn = await db.OpenConnectionAsync(ct);
            var deleted = await GuardedWrites.DeleteAsync(conn, "stages", c.Id, c.IfMatch, "Stage", ct);
            cache.Evict(c.Id);
            return deleted;
        }
    }
}

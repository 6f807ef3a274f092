using Carter;
using Dapper;
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

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<DeleteStageCommand, Result<bool>>
    {
        // Its service links go with it (CASCADE); any booking violates bookings_stage_id_fkey (RESTRICT): 409 in_use.
        private const string Delete = $"DELETE FROM stages WHERE id = @Id AND {ETags.Guard}";

        public async ValueTask<Result<bool>> Handle(DeleteStageCommand c, CancellationToken ct)
        {
            return await db.InTransactionAsync<Result<bool>>(async (conn, tx) =>
            {
                if (await Stages.FindAsync(conn, c.Id, ct, tx) is null)
                {
                    return Failure.NotFound("Stage");
                }

                return await conn.ExecuteAsync(new CommandDefinition(Delete, new { c.Id, c.IfMatch }, tx, cancellationToken: ct)) == 1
                    ? true
                    : Failure.PreconditionFailed();
            }, ct);
        }
    }
}

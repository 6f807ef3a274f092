using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Stages;

public static class DeleteService
{
    public sealed record DeleteServiceCommand(long Id, long? IfMatch) : ICommand<Result<bool>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapDelete("/api/services/{id:long}",
                async Task<Results<NoContent, ProblemHttpResult>> (long id, HttpContext http, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new DeleteServiceCommand(id, ETags.IfMatch(http)), ct)).ToHttp(_ => TypedResults.NoContent()))
            .WithName("DeleteService").WithTags("Stages").WithSummary("Delete a service that no stage offers (409 in_use otherwise)")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .WithProblems();
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<DeleteServiceCommand, Result<bool>>
    {
        // A stage still offering the service violates stage_services_service_id_fkey (RESTRICT): 409 in_use.
        private const string Delete = $"DELETE FROM services WHERE id = @Id AND {ETags.Guard}";

        public async ValueTask<Result<bool>> Handle(DeleteServiceCommand c, CancellationToken ct)
        {
            return await db.InTransactionAsync<Result<bool>>(async (conn, tx) =>
            {
                if (await StageServices.FindAsync(conn, c.Id, ct, tx) is null)
                {
                    return Failure.NotFound("Service");
                }

                return await conn.ExecuteAsync(new CommandDefinition(Delete, new { c.Id, c.IfMatch }, tx, cancellationToken: ct)) == 1
                    ? true
                    : Failure.PreconditionFailed();
            }, ct);
        }
    }
}

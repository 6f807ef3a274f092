using Carter;
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
        public async ValueTask<Result<bool>> Handle(DeleteServiceCommand c, CancellationToken ct)
        {
            // A stage still offering the service violates stage_services_service_id_fkey (RESTRICT): 409 in_use.
            await using var conn = await db.OpenConnectionAsync(ct);
            return await GuardedWrites.DeleteAsync(conn, "services", c.Id, c.IfMatch, "Service", ct);
        }
    }
}

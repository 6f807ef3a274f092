using Carter;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Stages;

public static class GetStage
{
    public sealed record GetStageQuery(long Id) : IQuery<Result<Versioned<Stage>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/stages/{id:long}",
                async Task<Results<Ok<Stage>, StatusCodeHttpResult, ProblemHttpResult>> (long id, HttpContext http, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new GetStageQuery(id), ct)).ToHttp(http))
            .WithName("GetStage").WithTags("Stages").WithSummary("One stage with its services, with its ETag")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<GetStageQuery, Result<Versioned<Stage>>>
    {
        public async ValueTask<Result<Versioned<Stage>>> Handle(GetStageQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await Stages.FindAsync(conn, q.Id, ct) is { } found ? found : Failure.NotFound("Stage");
        }
    }
}

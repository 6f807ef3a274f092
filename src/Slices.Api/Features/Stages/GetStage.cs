using Carter;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Stages;

public static class GetStage
{
    // Cached: from the StageCache (GET); otherwise read from the database (what PATCH merges over).
    public sealed record GetStageQuery(long Id, bool Cached = false) : IQuery<Result<Versioned<Stage>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/stages/{id:long}",
                async Task<Results<Ok<Stage>, StatusCodeHttpResult, ProblemHttpResult>> (long id, HttpContext http, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new GetStageQuery(id, Cached: true), ct)).ToHttp(http))
            .WithName("GetStage").WithTags("Stages").WithSummary("One stage with its services, with its ETag")
            .WithDescription("Served from memory until the stage changes: a change made through this instance shows at once, "
                + "one made elsewhere (another instance, SQL) within milliseconds, when PostgreSQL's notification arrives.")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(StageCache cache) : IQueryHandler<GetStageQuery, Result<Versioned<Stage>>>
    {
        public async ValueTask<Result<Versioned<Stage>>> Handle(GetStageQuery q, CancellationToken ct) =>
            await (q.Cached ? cache.FindAsync(q.Id, ct) : cache.ReadAsync(q.Id, ct)) is { } found ? found : Failure.NotFound("Stage");
    }
}

using Carter;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Stages;

public static class GetService
{
    public sealed record GetServiceQuery(long Id) : IQuery<Result<Versioned<StageService>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/services/{id:long}",
                async Task<Results<Ok<StageService>, StatusCodeHttpResult, ProblemHttpResult>> (long id, HttpContext http, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new GetServiceQuery(id), ct)).ToHttp(http))
            .WithName("GetService").WithTags("Stages").WithSummary("One service, with its ETag")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<GetServiceQuery, Result<Versioned<StageService>>>
    {
        public async ValueTask<Result<Versioned<StageService>>> Handle(GetServiceQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await StageServices.FindAsync(conn, q.Id, ct) is { } found ? found : Failure.NotFound("Service");
        }
    }
}

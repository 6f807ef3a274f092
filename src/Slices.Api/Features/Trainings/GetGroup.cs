using Carter;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Trainings;

public static class GetGroup
{
    public sealed record GetGroupQuery(long Id) : IQuery<Result<Versioned<TrainingGroup>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/groups/{id:long}",
                async Task<Results<Ok<TrainingGroup>, StatusCodeHttpResult, ProblemHttpResult>> (long id, HttpContext http, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new GetGroupQuery(id), ct)).ToHttp(http))
            .WithName("GetGroup").WithTags("Groups").WithSummary("A training group, with its ETag")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<GetGroupQuery, Result<Versioned<TrainingGroup>>>
    {
        public async ValueTask<Result<Versioned<TrainingGroup>>> Handle(GetGroupQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await TrainingGroups.FindAsync(conn, q.Id, ct) is { } found
                ? new Versioned<TrainingGroup>(found.Group, found.Version)
                : Failure.NotFound("Group");
        }
    }
}

using Carter;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Cassettes;

public static class GetCassette
{
    public sealed record GetCassetteQuery(long Id) : IQuery<Result<Versioned<Cassette>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/cassettes/{id:long}",
                async Task<Results<Ok<Cassette>, StatusCodeHttpResult, ProblemHttpResult>> (long id, HttpContext http, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new GetCassetteQuery(id), ct)).ToHttp(http))
            .WithName("GetCassette").WithTags("Cassettes").WithSummary("One cassette, with its ETag")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<GetCassetteQuery, Result<Versioned<Cassette>>>
    {
        public async ValueTask<Result<Versioned<Cassette>>> Handle(GetCassetteQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await Cassettes.FindAsync(conn, q.Id, ct) is { } found
                ? new Versioned<Cassette>(found.Cassette, found.Version)
                : Failure.NotFound("Cassette");
        }
    }
}

using Carter;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Events;

public static class GetOrganization
{
    public sealed record GetOrganizationQuery(long Id) : IQuery<Result<Versioned<OrganizationView>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/organizations/{id:long}",
                async Task<Results<Ok<OrganizationView>, StatusCodeHttpResult, ProblemHttpResult>> (long id, HttpContext http, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new GetOrganizationQuery(id), ct)).ToHttp(http))
            .WithName("GetOrganization").WithTags("Organizations").WithSummary("An organization with its members' ids")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<GetOrganizationQuery, Result<Versioned<OrganizationView>>>
    {
        public async ValueTask<Result<Versioned<OrganizationView>>> Handle(GetOrganizationQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await Organizations.FindAsync(conn, q.Id, ct) is { } found ? found : Failure.NotFound("Organization");
        }
    }
}

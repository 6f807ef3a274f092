using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Stages;

public static class ListServices
{
    public sealed record ListServicesQuery(int? Limit, int? Offset) : IQuery<Page<StageService>>, IPagedQuery;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/services",
                async Task<Ok<IReadOnlyList<StageService>>> (HttpContext http, ISender mediator, CancellationToken ct, int? limit, int? offset) =>
                {
                    var query = new ListServicesQuery(limit, offset);
                    return Paging.Ok(http, query, await mediator.Send(query, ct));
                })
            .WithName("ListServices").WithTags("Stages").WithSummary("The services stages can offer, by id")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<ListServicesQuery, Page<StageService>>
    {
        public async ValueTask<Page<StageService>> Handle(ListServicesQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition("SELECT count(*) FROM services", cancellationToken: ct));
            var items = await StageServices.ListAsync(conn, "ORDER BY s.id LIMIT @limit OFFSET @offset", new { limit = q.LimitOf(), offset = q.OffsetOf() }, ct);
            return new Page<StageService>(items, total);
        }
    }
}

using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Restaurant;

public static class ListTablePrices
{
    public sealed record ListTablePricesQuery(long Id, int? Limit, int? Offset) : IQuery<Result<Page<TablePrice>>>, IPagedQuery;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/restaurant/tables/{id:long}/prices",
                async Task<Results<Ok<IReadOnlyList<TablePrice>>, ProblemHttpResult>> (long id, HttpContext http, ISender mediator, CancellationToken ct, int? limit, int? offset) =>
                {
                    var query = new ListTablePricesQuery(id, limit, offset);
                    var result = await mediator.Send(query, ct);
                    return result.IsSuccess ? Paging.Ok(http, query, result.Value) : result.Failure!.ToProblem();
                })
            .WithName("ListRestaurantTablePrices").WithTags("Restaurant")
            .WithSummary("A table's price history by effective_from, scheduled prices included")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<ListTablePricesQuery, Result<Page<TablePrice>>>
    {
        private const string Select = """
            SELECT p.id, p.table_id AS "table", p.price, p.effective_from, p.created_at
            FROM restaurant_table_prices p
            WHERE p.table_id = @id
            ORDER BY p.effective_from, p.id
            LIMIT @limit OFFSET @offset
            """;

        public async ValueTask<Result<Page<TablePrice>>> Handle(ListTablePricesQuery q, CancellationToken ct)
        {
            var args = new { id = q.Id, limit = q.LimitOf(), offset = q.OffsetOf() };
            await using var conn = await db.OpenConnectionAsync(ct);
            if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT EXISTS (SELECT 1 FROM restaurant_tables WHERE id = @id)", args, cancellationToken: ct)))
            {
                return Failure.NotFound("Table");
            }

            var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition(
                "SELECT count(*) FROM restaurant_table_prices WHERE table_id = @id", args, cancellationToken: ct));
            var items = await conn.QueryAsync<TablePrice>(new CommandDefinition(Select, args, cancellationToken: ct));
            return new Page<TablePrice>(items.ToList(), total);
        }
    }
}

using System.Security.Claims;
using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Orders;

public static class ListOrders
{
    public sealed record ListOrdersQuery(Caller Caller, string? Status, int? Limit, int? Offset) : IQuery<Page<Order>>, IPagedQuery;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/orders",
                async Task<Ok<IReadOnlyList<Order>>> (HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct,
                    string? status, int? limit, int? offset) =>
                {
                    var query = new ListOrdersQuery(user.Caller(), status, limit, offset);
                    return Paging.Ok(http, query, await mediator.Send(query, ct));
                })
            .WithName("ListOrders").WithTags("Orders").WithSummary("Your orders, newest first (admin: everyone's); ?status=placed|cancelled")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
    }

    public sealed class Validator : AbstractValidator<ListOrdersQuery>
    {
        public Validator() =>
            RuleFor(x => x.Status).Must(s => s is null or Orders.Placed or Orders.Cancelled)
                .WithMessage($"status must be '{Orders.Placed}' or '{Orders.Cancelled}'.");
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<ListOrdersQuery, Page<Order>>
    {
        private const string Filter = $"WHERE {Orders.Visible} AND (@status::text IS NULL OR o.status = @status)";

        public async ValueTask<Page<Order>> Handle(ListOrdersQuery q, CancellationToken ct)
        {
            var args = new { uid = q.Caller.Id, admin = q.Caller.IsAdmin, status = q.Status, limit = q.LimitOf(), offset = q.OffsetOf() };
            await using var conn = await db.OpenConnectionAsync(ct);
            var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) FROM orders o {Filter}", args, cancellationToken: ct));
            var orders = await Orders.LoadAsync(conn, $"{Filter} ORDER BY o.id DESC LIMIT @limit OFFSET @offset", args, ct);
            return new Page<Order>(orders.Select(o => o.Order).ToList(), total);
        }
    }
}

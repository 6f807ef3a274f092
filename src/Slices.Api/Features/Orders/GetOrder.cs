using System.Security.Claims;
using Carter;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Orders;

public static class GetOrder
{
    public sealed record GetOrderQuery(long Id, Caller Caller) : IQuery<Result<Versioned<Order>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/orders/{id:long}",
                async Task<Results<Ok<Order>, StatusCodeHttpResult, ProblemHttpResult>> (long id, HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new GetOrderQuery(id, user.Caller()), ct)).ToHttp(http))
            .WithName("GetOrder").WithTags("Orders").WithSummary("One of your orders (admin: any order)")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<GetOrderQuery, Result<Versioned<Order>>>
    {
        public async ValueTask<Result<Versioned<Order>>> Handle(GetOrderQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var found = await Orders.LoadAsync(conn, $"WHERE o.id = @id AND {Orders.Visible}", new { id = q.Id, uid = q.Caller.Id, admin = q.Caller.IsAdmin }, ct);
            return found is [var (order, version)] ? new Versioned<Order>(order, version) : Failure.NotFound("Order");
        }
    }
}

using System.Security.Claims;
using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Orders;

// placed → cancelled by compare-and-swap on the status, and the stock goes back in the same transaction:
// of two concurrent cancels only one changes the row, so stock is returned once.
public static class CancelOrder
{
    public sealed record CancelOrderCommand(long Id, Caller Caller) : ICommand<Result<Order>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/orders/{id:long}/cancel",
                async Task<Results<Ok<Order>, ProblemHttpResult>> (long id, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new CancelOrderCommand(id, user.Caller()), ct)).ToHttp(TypedResults.Ok))
            .WithName("CancelOrder").WithTags("Orders").WithSummary("Cancel your order (admin: any order) and return its stock; a second cancel is 409")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : ICommandHandler<CancelOrderCommand, Result<Order>>
    {
        private const string Cancel = $"""
            UPDATE orders o SET status = 'cancelled', cancelled_at = @now
            WHERE o.id = @id AND o.status = 'placed' AND {Orders.Visible}
            RETURNING o.id
            """;

        // Locks in id order as placing an order does; a cassette deleted since is simply not restocked.
        private const string Restock = """
            SELECT c.id FROM cassettes c JOIN order_lines l ON l.cassette_id = c.id WHERE l.order_id = @id ORDER BY c.id FOR UPDATE OF c;
            UPDATE cassettes c SET quantity = c.quantity + l.quantity
            FROM order_lines l WHERE l.order_id = @id AND c.id = l.cassette_id;
            """;

        public async ValueTask<Result<Order>> Handle(CancelOrderCommand c, CancellationToken ct)
        {
            var args = new { id = c.Id, uid = c.Caller.Id, admin = c.Caller.IsAdmin, now = clock.GetUtcNow().UtcDateTime };
            return await db.InTransactionAsync<Result<Order>>(async (conn, tx) =>
            {
                if (await conn.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(Cancel, args, tx, cancellationToken: ct)) is null)
                {
                    var visible = await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
                        $"SELECT EXISTS (SELECT 1 FROM orders o WHERE o.id = @id AND {Orders.Visible})", args, tx, cancellationToken: ct));
                    return visible
                        ? Failure.Conflict("already_cancelled", "The order is cancelled already.")
                        : Failure.NotFound("Order");
                }

                await conn.ExecuteAsync(new CommandDefinition(Restock, args, tx, cancellationToken: ct));
                return (await Orders.LoadAsync(conn, "WHERE o.id = @id", args, ct, tx))[0].Order;
            }, ct);
        }
    }
}

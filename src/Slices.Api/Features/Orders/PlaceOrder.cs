using System.Globalization;
using System.Security.Claims;
using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

[assembly: PgConstraint("order_lines_one_per_cassette", 400, "validation_failed", "Each cassette may appear once in an order.", Field = "items")]

namespace Slices.Api.Features.Orders;

// Takes stock for every line or for none: conditional UPDATEs (`quantity >= n`) in one transaction, so
// concurrent orders can never take more than there is, and a short line rolls the whole order back.
public static class PlaceOrder
{
    public const int MaxLines = 100;
    public const int MaxLineQuantity = 1_000;

    public sealed record OrderLineRequest(long Cassette, int Quantity);

    public sealed record PlaceOrderRequest(IReadOnlyList<OrderLineRequest>? Items);

    public sealed record PlaceOrderCommand(Caller Caller, IReadOnlyList<OrderLineRequest>? Items) : ICommand<Result<Order>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/orders",
                async Task<Results<Created<Order>, ProblemHttpResult>> (PlaceOrderRequest body, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new PlaceOrderCommand(user.Caller(), body.Items), ct)).ToHttp(o => TypedResults.Created($"/api/orders/{o.Id}", o)))
            .WithName("PlaceOrder").WithTags("Orders")
            .WithSummary("Order cassettes: all lines are taken from stock or none (409 out_of_stock names the short ones)")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .Idempotent();
    }

    public sealed class Validator : AbstractValidator<PlaceOrderCommand>
    {
        public Validator()
        {
            RuleFor(x => x.Items).NotEmpty().Must(items => items is null || items.Count <= MaxLines)
                .WithMessage($"An order has at most {MaxLines} items.");
            RuleForEach(x => x.Items).NotNull().WithMessage("Each item must be an object {cassette, quantity}.").ChildRules(line =>
            {
                line.RuleFor(l => l.Cassette).GreaterThan(0);
                line.RuleFor(l => l.Quantity).InclusiveBetween(1, MaxLineQuantity);
            });
            // Duplicate lines are refused rather than merged: the client's intent is unclear, and one line per cassette keeps the order readable.
            RuleFor(x => x.Items).Custom((items, context) =>
            {
                var seen = new HashSet<long>();
                for (var i = 0; i < (items?.Count ?? 0); i++)
                {
                    if (items![i] is { } item && !seen.Add(item.Cassette))
                    {
                        context.AddFailure($"Items[{i}].Cassette", $"Cassette {item.Cassette} is already in this order; put the total in one item's quantity.");
                    }
                }
            });
        }
    }

    // Row locks in id order: two orders for overlapping cassettes queue up instead of deadlocking. Under them, the holds
    // of those cassettes whose time is up give their stock back (db/0020) before it is counted.
    private const string Lock = $"""
        SELECT id FROM cassettes WHERE id = ANY (@cassettes) ORDER BY id FOR UPDATE;
        {Holds.Holds.ExpireDueCassettes};
        """;

    private const string Stock = "SELECT id, quantity FROM cassettes WHERE id = ANY (@cassettes)";

    private const string Take = """
        UPDATE cassettes c SET quantity = c.quantity - w.quantity
        FROM unnest(@cassettes, @quantities) AS w(cassette, quantity)
        WHERE c.id = w.cassette AND c.quantity >= w.quantity
        RETURNING c.id, c.title
        """;

    private const string InsertOrder = """
        INSERT INTO orders (user_id, status, created_at) VALUES (@uid, 'placed', @now) RETURNING id, created_at
        """;

    private const string InsertLines = """
        INSERT INTO order_lines (order_id, line_no, cassette_id, title, quantity)
        SELECT @order, l.line_no, l.cassette, l.title, l.quantity
        FROM unnest(@cassettes, @titles, @quantities) WITH ORDINALITY AS l(cassette, title, quantity, line_no)
        """;

    // The order, in the caller's transaction: what this route does, and what confirming a cassette hold does.
    // items are valid: 1–100 lines, distinct cassettes.
    public static async Task<Result<Order>> PlaceAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long user, IReadOnlyList<OrderLineRequest> items, DateTime now, CancellationToken ct)
    {
        var cassettes = items.Select(i => i.Cassette).ToArray();
        var quantities = items.Select(i => i.Quantity).ToArray();
        HashSet<long> found;
        await using (var locked = await conn.QueryMultipleAsync(new CommandDefinition(Lock, new { cassettes, now }, tx, cancellationToken: ct)))
        {
            found = (await locked.ReadAsync<long>()).ToHashSet();
        }

        if (Unknown(items, found) is { } unknown)
        {
            return unknown;
        }

        var titles = (await conn.QueryAsync<(long Id, string Title)>(new CommandDefinition(Take, new { cassettes, quantities }, tx, cancellationToken: ct)))
            .ToDictionary(t => t.Id, t => t.Title);
        if (titles.Count < items.Count)
        {
            // The short cassettes' rows were left as they were: their stock now is what the order found.
            var stock = (await conn.QueryAsync<(long Id, int Quantity)>(new CommandDefinition(Stock, new { cassettes }, tx, cancellationToken: ct)))
                .ToDictionary(s => s.Id, s => s.Quantity);
            return OutOfStock(items, stock, titles);
        }

        var (id, createdAt) = await conn.QuerySingleAsync<(long, DateTime)>(new CommandDefinition(InsertOrder, new { uid = user, now }, tx, cancellationToken: ct));
        var lineTitles = cassettes.Select(x => titles[x]).ToArray();
        await conn.ExecuteAsync(new CommandDefinition(InsertLines, new { order = id, cassettes, titles = lineTitles, quantities }, tx, cancellationToken: ct));
        return new Order(id, user, Orders.Placed, items.Select((i, n) => new OrderItem(i.Cassette, lineTitles[n], i.Quantity)).ToList(), createdAt);
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : ICommandHandler<PlaceOrderCommand, Result<Order>>
    {
        public async ValueTask<Result<Order>> Handle(PlaceOrderCommand c, CancellationToken ct) =>
            await db.InTransactionAsync((conn, tx) => PlaceAsync(conn, tx, c.Caller.Id, c.Items!, clock.GetUtcNow().UtcDateTime, ct), ct);
    }

    private static Failure? Unknown(IReadOnlyList<OrderLineRequest> items, HashSet<long> found)
    {
        var errors = items.Select((item, i) => (item, i)).Where(x => !found.Contains(x.item.Cassette))
            .ToDictionary(x => $"items[{x.i}].cassette", x => new[] { $"Cassette {x.item.Cassette} does not exist." });
        return errors.Count == 0 ? null : new Failure(400, "unknown_cassette", "The order names cassettes that do not exist.", errors);
    }

    private static Failure OutOfStock(IReadOnlyList<OrderLineRequest> items, Dictionary<long, int> stock, Dictionary<long, string> taken)
    {
        var shortItems = items.Select((item, i) => (item, i)).Where(x => !taken.ContainsKey(x.item.Cassette)).ToList();
        var names = string.Join(", ", shortItems.Select(x => x.item.Cassette.ToString(CultureInfo.InvariantCulture)));
        return new Failure(409, "out_of_stock", $"Not enough stock for cassettes {names}; nothing was ordered.",
            shortItems.ToDictionary(x => $"items[{x.i}].quantity", x => new[] { $"Cassette {x.item.Cassette} has {stock[x.item.Cassette]} in stock." }));
    }
}

using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Restaurant;

public static class CreateTable
{
    // Price: optional, the table's first price, holding from now.
    public sealed record CreateTableRequest(string? Label, string? Kind, int? Seats, bool? CanBeBooked = null, decimal? Price = null);

    public sealed record CreateTableCommand(TableChanges Changes, decimal? Price) : ICommand<Result<RestaurantTable>>, ITableWrite;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/restaurant/tables",
                async Task<Results<Created<RestaurantTable>, ProblemHttpResult>> (CreateTableRequest body, ISender mediator, CancellationToken ct) =>
                {
                    var command = new CreateTableCommand(new TableChanges(body.Label, body.Kind, body.Seats, body.CanBeBooked), body.Price);
                    return (await mediator.Send(command, ct)).ToHttp(t => TypedResults.Created($"/api/restaurant/tables/{t.Id}", t));
                })
            .WithName("CreateRestaurantTable").WithTags("Restaurant")
            .WithSummary("Add a table; label unique case-insensitively (409 duplicate_label), seats 1–50, optional first price")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .Idempotent();
    }

    public sealed class Validator : AbstractValidator<CreateTableCommand>
    {
        public Validator()
        {
            Include(new TableChangesRules());
            RuleFor(x => x.Price).IsPrice();
        }
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : ICommandHandler<CreateTableCommand, Result<RestaurantTable>>
    {
        private const string Insert = """
            INSERT INTO restaurant_tables (label, kind, seats, can_be_booked, created_at)
            VALUES (@Label, @Kind, @Seats, @CanBeBooked, @now)
            RETURNING id
            """;

        private const string FirstPrice = """
            INSERT INTO restaurant_table_prices (table_id, price, effective_from, created_at) VALUES (@id, @price, @now, @now)
            """;

        public async ValueTask<Result<RestaurantTable>> Handle(CreateTableCommand c, CancellationToken ct)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            return await db.InTransactionAsync<Result<RestaurantTable>>(async (conn, tx) =>
            {
                var args = new DynamicParameters(c.Changes.Columns());
                args.Add("now", now);
                var id = await conn.ExecuteScalarAsync<long>(new CommandDefinition(Insert, args, tx, cancellationToken: ct));
                if (c.Price is { } price)
                {
                    await conn.ExecuteAsync(new CommandDefinition(FirstPrice, new { id, price, now }, tx, cancellationToken: ct));
                }

                return (await RestaurantTables.FindAsync(conn, id, now, ct, tx))!.Value;
            }, ct);
        }
    }
}

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

// Sets a table's price from now or from a future instant. Prices are never overwritten: each one is a row of the
// table's history, and reservations keep the price that held when they were made.
public static class SetTablePrice
{
    // Clock skew between a client that means "now" and the service; an instant this much in the past is now.
    public static readonly TimeSpan Slack = TimeSpan.FromMinutes(1);

    public sealed record SetTablePriceRequest(decimal? Price, DateTimeOffset? EffectiveFrom = null);

    public sealed record SetTablePriceCommand(long Id, decimal? Price, DateTimeOffset? EffectiveFrom) : ICommand<Result<TablePrice>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPut("/api/restaurant/tables/{id:long}/price",
                async Task<Results<Ok<TablePrice>, ProblemHttpResult>> (long id, SetTablePriceRequest body, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new SetTablePriceCommand(id, body.Price, body.EffectiveFrom), ct)).ToHttp(TypedResults.Ok))
            .WithName("SetRestaurantTablePrice").WithTags("Restaurant")
            .WithSummary("Set a table's price, from now or from effective_from (a future instant schedules it)")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Validator : AbstractValidator<SetTablePriceCommand>
    {
        public Validator(TimeProvider clock)
        {
            RuleFor(x => x.Price).NotNull().IsPrice();
            RuleFor(x => x.EffectiveFrom)
                .Must(e => e is null || e >= clock.GetUtcNow() - Slack).WithMessage("effective_from must not be in the past; leave it out for now.")
                .Must(e => e is null || e.Value.Year <= 9000).WithMessage("effective_from must be before the year 9000.");
        }
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : ICommandHandler<SetTablePriceCommand, Result<TablePrice>>
    {
        private const string Insert = """
            INSERT INTO restaurant_table_prices (table_id, price, effective_from, created_at)
            VALUES (@id, @price, @effectiveFrom, @now)
            RETURNING id, table_id AS "table", price, effective_from, created_at
            """;

        public async ValueTask<Result<TablePrice>> Handle(SetTablePriceCommand c, CancellationToken ct)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var effectiveFrom = c.EffectiveFrom?.UtcDateTime is { } at && at > now ? at : now;
            return await db.InTransactionAsync<Result<TablePrice>>(async (conn, tx) =>
            {
                if (!await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
                        "SELECT EXISTS (SELECT 1 FROM restaurant_tables WHERE id = @id)", new { id = c.Id }, tx, cancellationToken: ct)))
                {
                    return Failure.NotFound("Table");
                }

                return await conn.QuerySingleAsync<TablePrice>(new CommandDefinition(
                    Insert, new { id = c.Id, price = c.Price, effectiveFrom, now }, tx, cancellationToken: ct));
            }, ct);
        }
    }
}

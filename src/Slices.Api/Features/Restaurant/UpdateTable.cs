using System.Text.Json;
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

// PATCH of a table: a merge over the current table, then a replace. `can_be_booked: false` closes it.
public static class UpdateTable
{
    public sealed record ReplaceTableCommand(long Id, TableChanges Changes, long? IfMatch) : ICommand<Result<Versioned<RestaurantTable>>>, ITableWrite;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPatch("/api/restaurant/tables/{id:long}",
                async Task<Results<Ok<RestaurantTable>, StatusCodeHttpResult, ProblemHttpResult>> (long id, JsonElement patch, HttpContext http, ISender mediator, CancellationToken ct) =>
                    await mediator.MergeAndReplaceAsync(
                        http, patch, new GetTable.GetTableQuery(id, IsAdmin: true), TableChanges.From,
                        (changes, ifMatch) => new ReplaceTableCommand(id, changes, ifMatch), ["id", "price"], ct))
            .WithName("UpdateRestaurantTable").WithTags("Restaurant")
            .WithSummary("Change a table's label, kind, seats or can_be_booked (false closes it); the price has its own route")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .Accepts<TableChanges>("application/json")
            .WithProblems();
    }

    public sealed class Validator : AbstractValidator<ReplaceTableCommand>
    {
        public Validator() => Include(new TableChangesRules());
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : ICommandHandler<ReplaceTableCommand, Result<Versioned<RestaurantTable>>>
    {
        private const string Update = $"""
            UPDATE restaurant_tables SET label = @Label, kind = @Kind, seats = @Seats, can_be_booked = @CanBeBooked
            WHERE id = @Id AND {ETags.Guard}
            """;

        public async ValueTask<Result<Versioned<RestaurantTable>>> Handle(ReplaceTableCommand c, CancellationToken ct) =>
            await db.InTransactionAsync<Result<Versioned<RestaurantTable>>>(async (conn, tx) =>
            {
                var args = new DynamicParameters(c.Changes.Columns(c.Id));
                args.Add("IfMatch", c.IfMatch);
                if (await conn.ExecuteAsync(new CommandDefinition(Update, args, tx, cancellationToken: ct)) == 0)
                {
                    return await GuardedWrites.WhyMissedAsync(conn, "restaurant_tables", c.Id, "Table", ct, tx);
                }

                return (await RestaurantTables.FindAsync(conn, c.Id, clock.GetUtcNow().UtcDateTime, ct, tx))!;
            }, ct);
    }
}

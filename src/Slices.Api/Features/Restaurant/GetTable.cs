using System.Security.Claims;
using Carter;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Restaurant;

public static class GetTable
{
    public sealed record GetTableQuery(long Id, bool IsAdmin) : IQuery<Result<Versioned<RestaurantTable>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/restaurant/tables/{id:long}",
                async Task<Results<Ok<RestaurantTable>, ProblemHttpResult>> (long id, HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                {
                    var result = await mediator.Send(new GetTableQuery(id, user.IsAdmin()), ct);
                    if (!result.IsSuccess)
                    {
                        return result.Failure!.ToProblem();
                    }

                    // The ETag versions the table row, for If-Match on PATCH. No 304: the price that holds now changes
                    // without a write when a scheduled price takes over.
                    ETags.Set(http, result.Value.Version);
                    return TypedResults.Ok(result.Value.Value);
                })
            .WithName("GetRestaurantTable").WithTags("Restaurant")
            .WithSummary("One table with the price that holds now, with its ETag; a closed table only for admins")
            .AllowAnonymous()
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : IQueryHandler<GetTableQuery, Result<Versioned<RestaurantTable>>>
    {
        public async ValueTask<Result<Versioned<RestaurantTable>>> Handle(GetTableQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await RestaurantTables.FindAsync(conn, q.Id, clock.GetUtcNow().UtcDateTime, ct) is { } found && (q.IsAdmin || found.Value.CanBeBooked)
                ? found
                : Failure.NotFound("Table");
        }
    }
}

using Carter;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Restaurant;

public static class GetReservation
{
    public sealed record GetReservationQuery(long Id) : IQuery<Result<Versioned<Reservation>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/restaurant/reservations/{id:long}",
                async Task<Results<Ok<Reservation>, StatusCodeHttpResult, ProblemHttpResult>> (long id, HttpContext http, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new GetReservationQuery(id), ct)).ToHttp(http))
            .WithName("GetReservation").WithTags("Restaurant").WithSummary("One reservation with the customer's contact, with its ETag")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<GetReservationQuery, Result<Versioned<Reservation>>>
    {
        public async ValueTask<Result<Versioned<Reservation>>> Handle(GetReservationQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await Reservations.FindAsync(conn, q.Id, ct) is { } found ? found : Failure.NotFound("Reservation");
        }
    }
}

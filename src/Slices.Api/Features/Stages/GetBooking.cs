using System.Security.Claims;
using Carter;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Stages;

public static class GetBooking
{
    public sealed record GetBookingQuery(long Id, Caller Caller) : IQuery<Result<Versioned<Booking>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/bookings/{id:long}",
                async Task<Results<Ok<Booking>, StatusCodeHttpResult, ProblemHttpResult>> (long id, HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new GetBookingQuery(id, user.Caller()), ct)).ToHttp(http))
            .WithName("GetBooking").WithTags("Stages").WithSummary("One of your bookings (admin: any), with its ETag")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<GetBookingQuery, Result<Versioned<Booking>>>
    {
        public async ValueTask<Result<Versioned<Booking>>> Handle(GetBookingQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await Bookings.FindAsync(conn, q.Id, q.Caller, ct) is { } found ? found : Failure.NotFound("Booking");
        }
    }
}

using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;

namespace Slices.Api.Features.Stages;

public static class DeactivateBookings
{
    // Both optional: only the bookings of Stage, only those on or before DateTo.
    public sealed record DeactivateBookingsRequest(long? Stage, DateOnly? DateTo) : ICommand<DeactivateBookingsResponse>;

    public sealed record DeactivateBookingsResponse(int Deactivated);

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPatch("/api/deactivate-bookings",
                async Task<Ok<DeactivateBookingsResponse>> (DeactivateBookingsRequest? body, ISender mediator, CancellationToken ct) =>
                    TypedResults.Ok(await mediator.Send(body ?? new DeactivateBookingsRequest(null, null), ct)))
            .WithName("DeactivateBookings").WithTags("Stages")
            .WithSummary("Deactivate all active bookings, or those of {stage} and/or on or before {date_to}; answers how many")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<DeactivateBookingsRequest, DeactivateBookingsResponse>
    {
        // One statement: a booking made meanwhile is either counted and deactivated, or untouched.
        private const string Deactivate = """
            UPDATE bookings SET active = false
            WHERE active AND hold_id IS NULL
              AND (@Stage::bigint IS NULL OR stage_id = @Stage)
              AND (@DateTo::date IS NULL OR date <= @DateTo)
            """;

        // It locks its rows one by one, so it can deadlock with a booking write holding one of them and waiting for
        // another (in the exclusion check, for a row this is deactivating); PostgreSQL then aborts one of the two, and
        // InTransactionAsync runs this again from the start when it is the one.
        public async ValueTask<DeactivateBookingsResponse> Handle(DeactivateBookingsRequest r, CancellationToken ct) =>
            await db.InTransactionAsync(async (conn, tx) =>
                new DeactivateBookingsResponse(await conn.ExecuteAsync(new CommandDefinition(Deactivate, new { r.Stage, r.DateTo }, tx, cancellationToken: ct))), ct);
    }
}

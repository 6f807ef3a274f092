using System.Security.Claims;
using Carter;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Stages;

public static class BookStage
{
    public sealed record BookStageCommand(Caller Caller, BookingChanges Changes) : ICommand<Result<Booking>>, IBookingWrite;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/bookings",
                async Task<Results<Created<Booking>, ProblemHttpResult>> (BookingChanges body, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new BookStageCommand(user.Caller(), body), ct)).ToHttp(b => TypedResults.Created($"/api/bookings/{b.Id}", b)))
            .WithName("BookStage").WithTags("Stages")
            .WithSummary("Book a stage for a time window on a date; the caller is the booking's user. 409 booking_conflict on overlap")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .Idempotent();
    }

    public sealed class Validator : AbstractValidator<BookStageCommand>
    {
        public Validator() => Include(new BookingChangesRules());
    }

    // An overlap with another active booking of the stage violates bookings_no_overlap, whoever commits first.
    private const string Insert = $"""
        INSERT INTO bookings AS b (user_id, stage_id, date, start_time, finish_time, active)
        VALUES (@user, @Stage, @Date, @StartTime, @FinishTime, @Active)
        RETURNING {Bookings.Columns}
        """;

    // The booking, in the caller's transaction: what this route does, and what confirming a stage slot's hold does.
    public static async Task<Result<Booking>> BookAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long user, BookingChanges b, TimeProvider clock, CancellationToken ct)
    {
        if (await Bookings.CheckAsync(conn, tx, b, stored: null, clock, ct) is { } broken)
        {
            return broken;
        }

        var args = new { user, b.Stage, b.Date, b.StartTime, b.FinishTime, Active = b.Active ?? true };
        return (await Bookings.ReadAsync(conn, Insert, args, ct, tx))!.Value;
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : ICommandHandler<BookStageCommand, Result<Booking>>
    {
        public async ValueTask<Result<Booking>> Handle(BookStageCommand c, CancellationToken ct)
        {
            var b = c.Changes;
            try
            {
                return await db.InTransactionAsync((conn, tx) => BookAsync(conn, tx, c.Caller.Id, b, clock, ct), ct);
            }
            catch (PostgresException e) when (e.ConstraintName == Bookings.NoOverlap)
            {
                return await Bookings.ConflictAsync(db, b, exceptId: 0, ct);
            }
        }
    }
}

using System.Security.Claims;
using System.Text.Json;
using Carter;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Stages;

// PUT and PATCH (a merge over the current booking, then the same replace) of a booking: the rules are checked again,
// overlap included (with the other bookings: an update never conflicts with its own old times), except that only a
// new date or time must lie in the future and only a new date, time or stage inside opening hours, so a booking that
// has begun, or that shortened hours left outside, can still be deactivated.
public static class UpdateBooking
{
    public sealed record ReplaceBookingCommand(long Id, Caller Caller, BookingChanges Changes, long? IfMatch) : ICommand<Result<Versioned<Booking>>>, IBookingWrite;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            app.MapPut("/api/bookings/{id:long}",
                    async Task<Results<Ok<Booking>, StatusCodeHttpResult, ProblemHttpResult>> (long id, BookingChanges body, HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                        (await mediator.Send(new ReplaceBookingCommand(id, user.Caller(), body, ETags.IfMatch(http)), ct)).ToHttp(http))
                .WithName("ReplaceBooking").WithTags("Stages").WithSummary("Replace one of your bookings (admin: any); the user stays who booked it")
                .RequireAuthorization()
                .WithProblems();
            app.MapPatch("/api/bookings/{id:long}",
                    async Task<Results<Ok<Booking>, StatusCodeHttpResult, ProblemHttpResult>> (long id, JsonElement patch, HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                        await mediator.MergeAndReplaceAsync(
                            http, patch, new GetBooking.GetBookingQuery(id, user.Caller()), BookingChanges.From,
                            (changes, ifMatch) => new ReplaceBookingCommand(id, user.Caller(), changes, ifMatch), ["id", "user"], ct))
                .WithName("UpdateBooking").WithTags("Stages").WithSummary("Change only the members sent; 'user' is read-only")
                .RequireAuthorization()
                .Accepts<BookingChanges>("application/json")
                .WithProblems();
        }
    }

    public sealed class Validator : AbstractValidator<ReplaceBookingCommand>
    {
        public Validator() => Include(new BookingChangesRules());
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : ICommandHandler<ReplaceBookingCommand, Result<Versioned<Booking>>>
    {
        private const string Update = $"""
            UPDATE bookings b
            SET stage_id = @Stage, date = @Date, start_time = @StartTime, finish_time = @FinishTime, active = @Active
            WHERE b.id = @Id AND {ETags.Guard}
            RETURNING {Bookings.Columns}
            """;

        public async ValueTask<Result<Versioned<Booking>>> Handle(ReplaceBookingCommand c, CancellationToken ct)
        {
            var b = c.Changes;
            try
            {
                return await db.InTransactionAsync<Result<Versioned<Booking>>>(async (conn, tx) =>
                {
                    // Locked first, so that whether this write moves the booking is decided on the row it changes. Then
                    // CheckAsync locks the stage: an update always takes its booking before the stage, BookStage only a stage.
                    if (await Bookings.LockAsync(conn, tx, c.Id, c.Caller, ct) is not { } stored)
                    {
                        return Failure.NotFound("Booking");
                    }

                    if (await Bookings.CheckAsync(conn, tx, b, stored.Value, clock, ct) is { } broken)
                    {
                        return broken;
                    }

                    var args = new { c.Id, b.Stage, b.Date, b.StartTime, b.FinishTime, Active = b.Active ?? true, c.IfMatch };
                    return await Bookings.ReadAsync(conn, Update, args, ct, tx) is { } updated ? updated : Failure.PreconditionFailed();
                }, ct);
            }
            catch (PostgresException e) when (e.ConstraintName == Bookings.NoOverlap)
            {
                return await Bookings.ConflictAsync(db, b, exceptId: c.Id, ct);
            }
        }
    }
}

using System.Security.Claims;
using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;
using Slices.Api.Features.Orders;
using Slices.Api.Features.Restaurant;
using Slices.Api.Features.Stages;
using Slices.Api.Features.Trainings;

namespace Slices.Api.Features.Holds;

// Turns an active hold into the real thing in one transaction: the hold ends `converted` (its trigger gives the place
// back) and the ordinary create runs right after, under the locks that step took, so no one else can take the place
// in between; the answer is the create route's. A restaurant table's hold becomes a reservation request, so its body
// carries the customer: guests, name, email and/or phone, comment.
public static class ConfirmHold
{
    public sealed record ConfirmHoldRequest(int? Guests, string? Name, string? Email, string? Phone, string? Comment);

    public sealed record ConfirmHoldCommand(long Id, Caller Caller, ConfirmHoldRequest? Customer) : ICommand<Result<Confirmed>>;

    // The created resource and where it lives.
    public sealed record Confirmed(string Location, object Resource);

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost("/api/holds/{id:long}/confirm",
                async Task<Results<Created<Booking>, Created<Training>, Created<Order>, Created<RequestReservation.ReservationRequested>, ProblemHttpResult>> (
                    long id, [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] ConfirmHoldRequest? body, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                {
                    var result = await mediator.Send(new ConfirmHoldCommand(id, user.Caller(), body), ct);
                    if (!result.IsSuccess)
                    {
                        return result.Failure!.ToProblem();
                    }

                    var (location, resource) = result.Value;
                    return resource switch
                    {
                        Booking b => TypedResults.Created(location, b),
                        Training t => TypedResults.Created(location, t),
                        Order o => TypedResults.Created(location, o),
                        _ => TypedResults.Created(location, (RequestReservation.ReservationRequested)resource),
                    };
                })
            .WithName("ConfirmHold").WithTags("Holds")
            .WithSummary("Turn your active hold into the booking / enrolment / order / reservation request it holds (201, as the create route answers); "
                + "a restaurant table's hold takes {guests, name, email?, phone?, comment?}. 409 hold_expired, 409 hold_not_active")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .Idempotent();
    }

    public sealed class Handler(
        NpgsqlDataSource db, ReservationNotices notices, IValidator<RequestReservation.RequestReservationRequest> reservationRules, TimeProvider clock)
        : ICommandHandler<ConfirmHoldCommand, Result<Confirmed>>
    {
        private const string SetLocation = "UPDATE holds SET location = @location WHERE id = @id";

        // The target's lock first (every change of a hold's status takes it), then a stage slot's placeholder becomes
        // the booking in place and the hold ends converted with its location, all in one round trip: the booking is
        // written once, not deleted and inserted again with the stage's rules read a second time. They held when the
        // slot was held, under the stage's lock that this takes again; only the start can have passed since, and then
        // this matches nothing and the ordinary create answers. The hold's trigger runs after the whole statement and
        // so finds no placeholder left to give back. Any other kind matches nothing either and goes on below, under the
        // lock taken here.
        private const string LockAndAdopt = $"""
            {Holds.LockTarget};
            WITH adopted AS (
                UPDATE bookings b SET hold_id = NULL, created_at = @now
                FROM holds h
                WHERE b.hold_id = h.id AND h.id = @id AND h.user_id = @user AND h.status = 'active' AND h.expires_at > @now
                  AND b.date + b.start_time > @localNow
                RETURNING {Bookings.Columns}
            ), converted AS (
                UPDATE holds h SET status = 'converted', ended_at = @now, location = '/api/bookings/' || a.id
                FROM adopted a WHERE h.id = @id
            )
            SELECT * FROM adopted
            """;

        public async ValueTask<Result<Confirmed>> Handle(ConfirmHoldCommand c, CancellationToken ct)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            var args = new { id = c.Id, user = c.Caller.Id, now, localNow = clock.GetLocalNow().DateTime, to = HoldStatus.Converted, IfMatch = (long?)null };
            return await db.InTransactionAsync<Result<Confirmed>>(async (conn, tx) =>
            {
                // Prepared: planning it cost ~300 µs a time (pg_stat_statements), more than running it.
                if (await Bookings.ReadPreparedAsync(conn, tx, LockAndAdopt, leading: 1, ct,
                        new NpgsqlParameter<long>("id", c.Id), new NpgsqlParameter<long>("user", c.Caller.Id),
                        new NpgsqlParameter<DateTime>("now", now), new NpgsqlParameter<DateTime>("localNow", args.localNow)) is { Value: var adopted })
                {
                    return new Confirmed($"/api/bookings/{adopted.Id}", adopted);
                }

                if ((await Holds.QueryAsync(conn, Holds.EndActive, args, ct, tx)).SingleOrDefault()?.Value is not { } hold)
                {
                    return await Holds.NotActiveAsync(conn, tx, c.Id, c.Caller.Id, now, ct);
                }

                var created = await CreateAsync(conn, tx, hold, c, now, ct);
                if (created.IsSuccess)
                {
                    await conn.ExecuteAsync(new CommandDefinition(SetLocation, new { id = hold.Id, created.Value.Location }, tx, cancellationToken: ct));
                }

                return created;
            }, ct);
        }

        private async Task<Result<Confirmed>> CreateAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Hold h, ConfirmHoldCommand c, DateTime now, CancellationToken ct)
        {
            switch (h.Kind)
            {
                case HoldKind.StageSlot:
                    var booking = await BookStage.BookAsync(conn, tx, c.Caller.Id, new BookingChanges(h.Stage, h.Date, h.StartTime, h.EndTime, Active: true), clock, ct);
                    return booking.IsSuccess ? new Confirmed($"/api/bookings/{booking.Value.Id}", booking.Value) : booking.Failure!;

                case HoldKind.TrainingPlace:
                    var training = await EnrollInTraining.EnrolAsync(conn, tx, h.Training!.Value, c.Caller, now, jump: true, ct);
                    return training.IsSuccess ? new Confirmed($"/api/trainings/{training.Value.Id}", training.Value) : training.Failure!;

                case HoldKind.Cassette:
                    var order = await PlaceOrder.PlaceAsync(conn, tx, c.Caller.Id, [new PlaceOrder.OrderLineRequest(h.Cassette!.Value, h.Quantity!.Value)], now, ct);
                    return order.IsSuccess ? new Confirmed($"/api/orders/{order.Value.Id}", order.Value) : order.Failure!;

                default:
                    var customer = c.Customer ?? new ConfirmHoldRequest(null, null, null, null, null);
                    var request = new RequestReservation.RequestReservationRequest(
                        h.Table, new DateTimeOffset(h.StartsAt!.Value, TimeSpan.Zero), h.Duration, customer.Guests, customer.Name, customer.Email, customer.Phone, customer.Comment);
                    var rules = await reservationRules.ValidateAsync(request, ct);
                    if (!rules.IsValid)
                    {
                        return Failure.Invalid(rules.Errors);
                    }

                    var reservation = await RequestReservation.RequestAsync(conn, tx, request, notices, now, ct);
                    return reservation.IsSuccess ? new Confirmed($"/api/restaurant/reservations/{reservation.Value.Id}", reservation.Value) : reservation.Failure!;
            }
        }
    }
}

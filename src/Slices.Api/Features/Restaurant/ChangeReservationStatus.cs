using Carter;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Restaurant;

// An admin confirms or cancels a reservation by hand: the same transitions, emails and accounting events as the
// accounting system's callback. Asking again for the status it has is a harmless 200.
public static class ChangeReservationStatus
{
    public sealed record ChangeReservationStatusCommand(long Id, string Status) : ICommand<Result<Reservation>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            Map(app, "confirm", ReservationStatus.Confirmed, "ConfirmReservation",
                "Confirm a pending reservation; 409 reservation_conflict when it overlaps a confirmed one of its table");
            Map(app, "cancel", ReservationStatus.Cancelled, "CancelReservation",
                "Cancel a pending or confirmed reservation that has not started");
        }

        private static void Map(IEndpointRouteBuilder app, string action, string status, string name, string summary) =>
            app.MapPost($"/api/restaurant/reservations/{{id:long}}/{action}",
                    async Task<Results<Ok<Reservation>, ProblemHttpResult>> (long id, ISender mediator, CancellationToken ct) =>
                        (await mediator.Send(new ChangeReservationStatusCommand(id, status), ct)).ToHttp(TypedResults.Ok))
                .WithName(name).WithTags("Restaurant").WithSummary(summary)
                .RequireAuthorization(CurrentUser.AdminPolicy)
                .ProducesProblem(StatusCodes.Status401Unauthorized)
                .ProducesProblem(StatusCodes.Status403Forbidden)
                .ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesProblem(StatusCodes.Status409Conflict);
    }

    public sealed class Validator : AbstractValidator<ChangeReservationStatusCommand>
    {
        public Validator() => RuleFor(x => x.Status).Must(s => s is ReservationStatus.Confirmed or ReservationStatus.Cancelled);
    }

    public sealed class Handler(ReservationTransitions transitions) : ICommandHandler<ChangeReservationStatusCommand, Result<Reservation>>
    {
        public async ValueTask<Result<Reservation>> Handle(ChangeReservationStatusCommand c, CancellationToken ct)
        {
            var change = await transitions.ApplyAsync(c.Id, c.Status, comment: null, ct);
            return change.IsSuccess ? change.Value.Reservation : change.Failure!;
        }
    }
}

using Carter;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Http;
using Slices.Api.Common.Work;

namespace Slices.Api.Features.Restaurant;

// The cancel button: the token (form or JSON) cancels its reservation once, while it is pending or confirmed and
// has not started. A token used already, expired or not ours is a 400 problem (a browser gets a page instead).
public static class CancelByLink
{
    public sealed record CancelByLinkRequest(string? Token) : ICommand<Result<CancelledReservation>>;

    public sealed record CancelledReservation(long Id, string Status);

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPost(ReservationNotices.CancelPath,
                async Task<Results<Ok<CancelledReservation>, ContentHttpResult, ProblemHttpResult>> (HttpContext http, ISender mediator, CancellationToken ct) =>
                {
                    var request = await FormOrJson.ReadAsync<CancelByLinkRequest>(http.Request, ct)
                        ?? throw new BadHttpRequestException("The request body is empty.");
                    var result = await mediator.Send(request, ct);
                    if (!CancelLinks.WantsHtml(http.Request))
                    {
                        return result.IsSuccess ? TypedResults.Ok(result.Value) : result.Failure!.ToProblem();
                    }

                    return result.IsSuccess
                        ? CancelLinks.Page(http, "Your reservation is cancelled", Html.Format($"<p>Reservation {result.Value.Id} is cancelled. Thank you for letting us know.</p>"))
                        : CancelLinks.ErrorPage(http, result.Failure!);
                })
            .WithName("CancelReservationByLink").WithTags("Restaurant")
            .WithSummary("Cancel the reservation of a cancel link's token {token} (form or JSON); once, before it starts")
            .AllowAnonymous()
            .RequireRateLimiting(HttpPipeline.PublicWritePolicy)
            .Accepts<CancelByLinkRequest>(FormOrJson.ContentTypes[0], FormOrJson.ContentTypes[1..])
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
    }

    public sealed class Validator : AbstractValidator<CancelByLinkRequest>
    {
        public Validator() => RuleFor(x => x.Token).NotEmpty().MaximumLength(200);
    }

    public sealed class Handler(NpgsqlDataSource db, CancelTokens tokens, ReservationTransitions transitions, TimeProvider clock)
        : ICommandHandler<CancelByLinkRequest, Result<CancelledReservation>>
    {
        public async ValueTask<Result<CancelledReservation>> Handle(CancelByLinkRequest c, CancellationToken ct)
        {
            Result<Reservation> check;
            await using (var conn = await db.OpenConnectionAsync(ct))
            {
                check = await CancelLinks.CheckAsync(conn, tokens, c.Token!, clock.GetUtcNow(), ct);
            }

            if (!check.IsSuccess)
            {
                return check.Failure!;
            }

            // Of two presses at once, the compare-and-swap lets one cancel; the other finds it cancelled: used.
            var change = await transitions.ApplyAsync(check.Value.Id, ReservationStatus.Cancelled, comment: null, ct);
            return change switch
            {
                { IsSuccess: false } => change.Failure!,
                { Value.Changed: false } => CancelLinks.Used(),
                _ => new CancelledReservation(change.Value.Reservation.Id, change.Value.Reservation.Status),
            };
        }
    }
}

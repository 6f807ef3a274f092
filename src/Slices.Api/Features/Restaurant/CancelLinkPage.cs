using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using Slices.Api.Common.Http;
using Slices.Api.Common.Work;

namespace Slices.Api.Features.Restaurant;

// The page a cancel link opens. It only shows the reservation and a button (a form posting the token): mail
// scanners and link previews open links, so a GET never cancels anything.
public static class CancelLinkPage
{
    public sealed record CancelLinkQuery(string? Token) : IQuery<Result<CancelLinkView>>;

    public sealed record CancelLinkView(Reservation Reservation, string TableLabel, string When);

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet(ReservationNotices.CancelPath,
                async Task<Results<ContentHttpResult, ProblemHttpResult>> (string? token, HttpContext http, ISender mediator, CancellationToken ct) =>
                {
                    var result = await mediator.Send(new CancelLinkQuery(token), ct);
                    if (!result.IsSuccess)
                    {
                        return CancelLinks.WantsHtml(http.Request) ? CancelLinks.ErrorPage(http, result.Failure!) : result.Failure!.ToProblem();
                    }

                    var (r, label, when) = result.Value;
                    return CancelLinks.Page(http, "Cancel your reservation?", Html.Format($"""
                        <p>Reservation {r.Id} for {r.Name}: table {label}, {when}, {r.Guests} guest(s). It is {r.Status}.</p>
                        <form method="post" action="{http.Request.PathBase}{ReservationNotices.CancelPath}">
                        <input type="hidden" name="token" value="{token}">
                        <button type="submit">Cancel the reservation</button>
                        </form>
                        <p>To keep it, just close this page.</p>
                        """));
                })
            .WithName("CancelReservationLinkPage").WithTags("Restaurant")
            .WithSummary("The page a cancel link opens: the reservation and a button that cancels it; opening it changes nothing")
            .AllowAnonymous()
            .Produces<string>(StatusCodes.Status200OK, "text/html")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
    }

    public sealed class Validator : AbstractValidator<CancelLinkQuery>
    {
        public Validator() => RuleFor(x => x.Token).NotEmpty().MaximumLength(200);
    }

    public sealed class Handler(NpgsqlDataSource db, CancelTokens tokens, IOptions<RestaurantOptions> options, TimeProvider clock)
        : IQueryHandler<CancelLinkQuery, Result<CancelLinkView>>
    {
        public async ValueTask<Result<CancelLinkView>> Handle(CancelLinkQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var check = await CancelLinks.CheckAsync(conn, tokens, q.Token!, clock.GetUtcNow(), ct);
            if (!check.IsSuccess)
            {
                return check.Failure!;
            }

            var r = check.Value;
            var label = await conn.ExecuteScalarAsync<string>(new CommandDefinition(
                "SELECT label::text FROM restaurant_tables WHERE id = @Table", new { r.Table }, cancellationToken: ct));
            return new CancelLinkView(r, label!, ReservationEmails.When(r, options.Value.Zone()));
        }
    }
}

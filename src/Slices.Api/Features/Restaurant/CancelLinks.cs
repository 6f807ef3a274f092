using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Http;
using Slices.Api.Common.Work;

namespace Slices.Api.Features.Restaurant;

// What the cancel page and the cancel button both check, and the small HTML pages a browser gets.
public static class CancelLinks
{
    public static Failure Used() => new(StatusCodes.Status400BadRequest, "token_used", "This link has been used: the reservation is cancelled already.");

    // The reservation a cancel token may still cancel: the token is ours, unexpired, issued for this reservation as it
    // is, and the reservation is pending or confirmed. Otherwise why not, as a failure.
    public static async Task<Result<Reservation>> CheckAsync(NpgsqlConnection conn, CancelTokens tokens, string token, DateTimeOffset now, CancellationToken ct)
    {
        if (tokens.Read(token) is not { } claims)
        {
            return Failure.BadRequest("invalid_token", "The cancel link is not valid.");
        }

        if (claims.ExpiresAt <= now)
        {
            return Failure.BadRequest("token_expired", "The cancel link has expired: the reservation has started.");
        }

        var r = (await Reservations.FindAsync(conn, claims.ReservationId, ct))?.Value;
        return r switch
        {
            null => Failure.NotFound("Reservation"),
            _ when !claims.IsFor(r.StartsAt) => Failure.BadRequest("invalid_token", "The cancel link is not valid."),
            { Status: ReservationStatus.Cancelled } => Used(),
            { Status: ReservationStatus.Rejected } => Failure.Conflict("invalid_transition", "The reservation request was declined; there is nothing to cancel."),
            _ => r,
        };
    }

    // A browser (it asks for HTML) gets pages; API clients get JSON and problem+json.
    public static bool WantsHtml(HttpRequest request) =>
        request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);

    public static ContentHttpResult Page(HttpContext http, string title, TrustedHtml body, int status = StatusCodes.Status200OK)
    {
        // The page carries a live token: never cache it. The platform adds CSP (form-action 'self') and no-referrer.
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Content(Html.Document(title, Html.Format($"<h1>{title}</h1>{body}")).Value, "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    public static ContentHttpResult ErrorPage(HttpContext http, Failure failure) =>
        Page(http, "This link cannot be used", Html.Format($"<p>{failure.Detail}</p>"), failure.Status);
}

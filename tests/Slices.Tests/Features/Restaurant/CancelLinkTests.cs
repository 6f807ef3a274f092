using System.Net;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Restaurant.RestaurantTestData;

namespace Slices.Tests.Features.Restaurant;

// The customer's emails as a real SMTP server receives them, and the cancel link in them, followed as a browser would.
public sealed class CancelLinkTests(RestaurantHost r) : IClassFixture<RestaurantHost>
{
    private static Dictionary<string, string> Browser => new() { ["Accept"] = "text/html,application/xhtml+xml" };

    private async Task<(long Id, string Email, Uri Link)> RequestWithEmailAsync(string name = "Ann Guest", DateTimeOffset? start = null)
    {
        var email = Email();
        var table = await r.Api.NewTableIdAsync(r.Admin, price: 48m);
        var id = (await r.Api.RequestAsync(Request(table, start ?? Future(days: 9, hour: 19), guests: 3, email: email, name: name))).Is(HttpStatusCode.Created).Id;
        var mail = await r.Mail.NextToAsync(email);
        Assert.StartsWith("Reservation request received", mail.Subject, StringComparison.Ordinal);
        return (id, email, CancelLinkIn(mail));
    }

    private async Task<string> StatusAsync(long id) =>
        (await r.Api.GetAsync($"/api/restaurant/reservations/{id}", r.Admin)).Is(HttpStatusCode.OK).Body!["status"]!.GetValue<string>();

    private static string TokenOf(Uri link) => Uri.UnescapeDataString(link.Query["?token=".Length..]);

    [Fact]
    public async Task The_request_email_tells_the_details_and_carries_a_cancel_link_to_the_public_address()
    {
        var email = Email();
        var table = await r.Api.NewTableAsync(r.Admin, seats: 4, price: 48m);
        var start = Future(days: 9, hour: 19, minute: 30);
        var id = (await r.Api.RequestAsync(Request(table["id"]!.GetValue<long>(), start, guests: 3, email: email, name: "Zoë Guest"))).Is(HttpStatusCode.Created).Id;

        var mail = await r.Mail.NextToAsync(email);
        Assert.Equal("Zoë Guest", Assert.Single(mail.To.Mailboxes).Name);
        Assert.Contains(table["label"]!.GetValue<string>(), mail.Subject, StringComparison.Ordinal);
        Assert.Contains($"Reservation number: {id}", mail.TextBody, StringComparison.Ordinal);
        Assert.Contains("Guests: 3", mail.TextBody, StringComparison.Ordinal);
        Assert.Contains("Price: 48.00", mail.TextBody, StringComparison.Ordinal);
        var local = TimeZoneInfo.ConvertTime(start, TimeZoneInfo.FindSystemTimeZoneById(RestaurantHost.TimeZone));
        var when = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{local:dddd d MMMM yyyy, HH:mm}–{local.AddHours(2):HH:mm} (Europe/Berlin)");
        Assert.Contains(when, mail.TextBody, StringComparison.Ordinal);
        var link = CancelLinkIn(mail);
        Assert.Equal(RestaurantHost.PublicBaseUrl + "/api/restaurant/reservations/cancel", link.GetLeftPart(UriPartial.Path));
    }

    [Fact]
    public async Task The_day_of_the_admin_list_is_the_restaurants_day()
    {
        var table = await r.Api.NewTableIdAsync(r.Admin);
        // 23:30 UTC is already the next day in Berlin.
        var late = await r.Api.RequestIdAsync(table, Future(days: 70, hour: 23, minute: 30));
        var day = DateOnly.FromDateTime(Future(days: 70).UtcDateTime);
        Assert.Empty((await r.Api.GetAsync($"/api/restaurant/reservations?table={table}&date={day:yyyy-MM-dd}", r.Admin)).Is(HttpStatusCode.OK).Ids());
        Assert.Equal([late], (await r.Api.GetAsync($"/api/restaurant/reservations?table={table}&date={day.AddDays(1):yyyy-MM-dd}", r.Admin)).Is(HttpStatusCode.OK).Ids());
    }

    [Fact]
    public async Task Opening_the_link_shows_a_confirm_page_and_changes_nothing_then_the_button_cancels_once()
    {
        var (id, email, link) = await RequestWithEmailAsync();

        var page = (await r.Api.GetAsync(link.PathAndQuery, headers: Browser)).Is(HttpStatusCode.OK);
        Assert.Equal("text/html", page.Response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("no-store", page.Header("Cache-Control"));
        Assert.Contains("form-action 'self'", page.Header("Content-Security-Policy"), StringComparison.Ordinal);
        var html = await page.Response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.Contains("""<form method="post" action="/api/restaurant/reservations/cancel">""", html, StringComparison.Ordinal);
        Assert.Contains($"""<input type="hidden" name="token" value="{TokenOf(link)}">""", html, StringComparison.Ordinal);
        // Opened twice (a mail scanner, then the customer): still pending, no email, no event beyond the request's.
        (await r.Api.GetAsync(link.PathAndQuery)).Is(HttpStatusCode.OK);
        Assert.Equal("pending", await StatusAsync(id));
        Assert.Equal((1, 1), await r.OutboxCountsAsync(email, id));

        var cancelled = (await r.Api.PostAsync("/api/restaurant/reservations/cancel", new { token = TokenOf(link) })).Is(HttpStatusCode.OK).Body!;
        Assert.Equal(id, cancelled["id"]!.GetValue<long>());
        Assert.Equal("cancelled", cancelled["status"]!.GetValue<string>());
        Assert.Equal("cancelled", await StatusAsync(id));
        var mail = await r.Mail.NextToAsync(email);
        Assert.StartsWith("Reservation cancelled", mail.Subject, StringComparison.Ordinal);
        Assert.DoesNotContain("/cancel?token=", mail.TextBody, StringComparison.Ordinal);

        (await r.Api.PostAsync("/api/restaurant/reservations/cancel", new { token = TokenOf(link) })).IsProblem(HttpStatusCode.BadRequest, "token_used");
        (await r.Api.GetAsync(link.PathAndQuery)).IsProblem(HttpStatusCode.BadRequest, "token_used");
        Assert.Equal((2, 2), await r.OutboxCountsAsync(email, id));
    }

    [Fact]
    public async Task The_button_posts_a_form_and_a_browser_gets_a_page_back()
    {
        var (id, _, link) = await RequestWithEmailAsync();
        var form = new FormUrlEncodedContent([new("token", TokenOf(link))]);
        var reply = (await r.Api.SendAsync(HttpMethod.Post, "/api/restaurant/reservations/cancel", form, headers: Browser)).Is(HttpStatusCode.OK);
        Assert.Equal("text/html", reply.Response.Content.Headers.ContentType?.MediaType);
        Assert.Contains($"Reservation {id} is cancelled", await reply.Response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
        Assert.Equal("cancelled", await StatusAsync(id));

        var again = (await r.Api.SendAsync(HttpMethod.Post, "/api/restaurant/reservations/cancel", new FormUrlEncodedContent([new("token", TokenOf(link))]), headers: Browser))
            .Is(HttpStatusCode.BadRequest);
        Assert.Equal("text/html", again.Response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task A_confirmed_reservation_can_be_cancelled_by_the_link_in_the_confirmation()
    {
        var (id, email, _) = await RequestWithEmailAsync();
        (await r.Api.ConfirmAsync(id, r.Admin)).Is(HttpStatusCode.OK);
        var confirmation = await r.Mail.NextToAsync(email);
        Assert.StartsWith("Reservation confirmed", confirmation.Subject, StringComparison.Ordinal);

        var link = CancelLinkIn(confirmation);
        (await r.Api.GetAsync(link.PathAndQuery)).Is(HttpStatusCode.OK);
        (await r.Api.PostAsync("/api/restaurant/reservations/cancel", new { token = TokenOf(link) })).Is(HttpStatusCode.OK);
        Assert.Equal("cancelled", await StatusAsync(id));
    }

    [Fact]
    public async Task A_forged_or_altered_token_is_refused_and_changes_nothing()
    {
        var (id, _, link) = await RequestWithEmailAsync();
        var token = TokenOf(link);
        var other = await r.Api.RequestIdAsync(await r.Api.NewTableIdAsync(r.Admin), Future(days: 9));
        var parts = token.Split('.');
        string[] forged =
        [
            $"{other}.{parts[1]}.{parts[2]}",                          // another reservation under this MAC
            $"{parts[0]}.{long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) + 3600}.{parts[2]}", // a later expiry
            $"{parts[0]}.{parts[1]}.{(parts[2][0] == 'A' ? 'B' : 'A')}{parts[2][1..]}",
            $"{parts[0]}.{parts[1]}.{parts[2][..^1]}B",                // a last character with bits past the 32 bytes set
            $"{parts[0]}.{parts[1]}.{parts[2][..^1]}!",                // a character outside base64url
            $"{parts[0]}.{parts[1]}.{parts[2][..^1]}+",                // standard base64, not base64url
            $"{parts[0]}.{parts[1]}",
            "not-a-token",
        ];
        foreach (var bad in forged)
        {
            (await r.Api.PostAsync("/api/restaurant/reservations/cancel", new { token = bad })).IsProblem(HttpStatusCode.BadRequest, "invalid_token");
            (await r.Api.GetAsync($"/api/restaurant/reservations/cancel?token={Uri.EscapeDataString(bad)}")).IsProblem(HttpStatusCode.BadRequest, "invalid_token");
        }

        var page = (await r.Api.GetAsync("/api/restaurant/reservations/cancel?token=not-a-token", headers: Browser)).Is(HttpStatusCode.BadRequest);
        Assert.Equal("text/html", page.Response.Content.Headers.ContentType?.MediaType);
        (await r.Api.PostAsync("/api/restaurant/reservations/cancel", new { })).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal("pending", await StatusAsync(id));
        Assert.Equal("pending", await StatusAsync(other));
    }

    [Fact]
    public async Task A_link_expires_when_the_reservation_starts()
    {
        var start = DateTimeOffset.UtcNow.AddSeconds(3);
        var (id, _, link) = await RequestWithEmailAsync(start: start);
        await Task.Delay(start - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(200), TestContext.Current.CancellationToken);

        (await r.Api.GetAsync(link.PathAndQuery)).IsProblem(HttpStatusCode.BadRequest, "token_expired");
        (await r.Api.PostAsync("/api/restaurant/reservations/cancel", new { token = TokenOf(link) })).IsProblem(HttpStatusCode.BadRequest, "token_expired");
        Assert.Equal("pending", await StatusAsync(id));
    }

    [Fact]
    public async Task Names_and_comments_are_html_encoded_in_emails_and_on_the_page()
    {
        const string name = "<script>alert('x')</script> & Co";
        var (id, email, link) = await RequestWithEmailAsync(name);
        var page = await (await r.Api.GetAsync(link.PathAndQuery)).Response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.DoesNotContain("<script>", page, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co", page, StringComparison.Ordinal);

        var signed = CallbackBody(id, "rejected", "<b>Full</b> tonight");
        (await r.Api.CallbackAsync(signed, RestaurantHost.Secret)).Is(HttpStatusCode.OK);
        var mail = await r.Mail.NextToAsync(email);
        Assert.StartsWith("Reservation request declined", mail.Subject, StringComparison.Ordinal);
        Assert.Contains("Message from the restaurant: <b>Full</b> tonight", mail.TextBody, StringComparison.Ordinal);
        Assert.Contains("&lt;b&gt;Full&lt;/b&gt; tonight", mail.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", mail.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("/cancel?token=", mail.TextBody, StringComparison.Ordinal);
        (await r.Api.PostAsync("/api/restaurant/reservations/cancel", new { token = TokenOf(link) })).IsProblem(HttpStatusCode.Conflict, "invalid_transition");
    }

    [Fact]
    public async Task Two_presses_of_the_button_at_once_cancel_once()
    {
        var (id, email, link) = await RequestWithEmailAsync();
        var replies = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => r.Api.PostAsync("/api/restaurant/reservations/cancel", new { token = TokenOf(link) })));
        Assert.Single(replies, x => x.Status == HttpStatusCode.OK);
        Assert.All(replies.Where(x => x.Status != HttpStatusCode.OK), x => x.IsProblem(HttpStatusCode.BadRequest, "token_used"));
        Assert.Equal((2, 2), await r.OutboxCountsAsync(email, id));
    }
}

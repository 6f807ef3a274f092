using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Dapper;
using Npgsql;
using Slices.Tests.Features.Restaurant;
using Slices.Tests.Infrastructure;
using Slices.Tests.Work;
using static Slices.Tests.Features.Restaurant.RestaurantTestData;

namespace Slices.Tests.Features.Admin;

public sealed partial class ReservationsPageTests(SlicesFixture fx)
{
    [Fact]
    public async Task Reservations_are_listed_by_day_and_status_with_their_customers_encoded()
    {
        var admin = await fx.AdminTokenAsync();
        var table = await fx.Api.NewTableIdAsync(admin);
        var day = FarDay();
        var pending = (await fx.Api.RequestAsync(Request(table, day.AddHours(9), name: "<b>Eve</b> & co", comment: "<script>alert(1)</script>")))
            .Is(HttpStatusCode.Created).Id;
        var confirmed = await fx.Api.RequestIdAsync(table, day.AddHours(13));
        var nextDay = await fx.Api.RequestIdAsync(table, day.AddHours(24 + 9));
        (await fx.Api.ConfirmAsync(confirmed, admin)).Is(HttpStatusCode.OK);
        using var panel = await PanelClient.SignedInAsync(fx);

        var onTheDay = (await panel.GetAsync($"/admin/reservations?date={Day(day)}")).Is(HttpStatusCode.OK);
        var confirmedOnly = (await panel.GetAsync($"/admin/reservations?date={Day(day)}&status=confirmed")).Is(HttpStatusCode.OK);

        Assert.Equal([pending, confirmed], ReservationIds(onTheDay).Intersect([pending, confirmed, nextDay]));
        Assert.Equal([confirmed], ReservationIds(confirmedOnly).Intersect([pending, confirmed, nextDay]));
        Assert.Contains("&lt;b&gt;Eve&lt;/b&gt; &amp; co", onTheDay.Html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", onTheDay.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", onTheDay.Html, StringComparison.Ordinal);
        // A pending row offers Confirm and Cancel, a confirmed one only Cancel.
        Assert.Contains($"value=\"confirm:{pending}\"", onTheDay.Html, StringComparison.Ordinal);
        Assert.Contains($"value=\"cancel:{pending}\"", onTheDay.Html, StringComparison.Ordinal);
        Assert.DoesNotContain($"value=\"confirm:{confirmed}\"", onTheDay.Html, StringComparison.Ordinal);
        Assert.Contains($"value=\"cancel:{confirmed}\"", onTheDay.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_filters_are_a_400_naming_the_field()
    {
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync("/admin/reservations?date=soon&status=maybe")).Is(HttpStatusCode.BadRequest);

        Assert.Contains("Starting on must be a date (yyyy-mm-dd).", page.Html, StringComparison.Ordinal);
        var status = (await panel.GetAsync("/admin/reservations?status=maybe")).Is(HttpStatusCode.BadRequest);
        Assert.Contains("status must be one of pending, confirmed, rejected, cancelled.", status.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Confirm_and_cancel_through_the_form_change_the_status()
    {
        var admin = await fx.AdminTokenAsync();
        var id = await fx.Api.RequestIdAsync(await fx.Api.NewTableIdAsync(admin), FarDay().AddHours(19));
        using var panel = await PanelClient.SignedInAsync(fx);
        var list = (await panel.GetAsync("/admin/reservations")).Is(HttpStatusCode.OK);

        var confirmedPage = (await panel.PostAsync("/admin/reservations", "reservation", list.Token, Action("confirm", id))).Is(HttpStatusCode.OK);

        Assert.Contains($"Reservation #{id} of Ann Guest is confirmed.", confirmedPage.Text, StringComparison.Ordinal);
        Assert.Equal("confirmed", await StatusAsync(id, admin));
        var cancelledPage = (await panel.PostAsync("/admin/reservations", "reservation", confirmedPage.Token, Action("cancel", id))).Is(HttpStatusCode.OK);
        Assert.Contains($"Reservation #{id} of Ann Guest is cancelled.", cancelledPage.Text, StringComparison.Ordinal);
        Assert.Equal("cancelled", await StatusAsync(id, admin));

        // Cancelled is final: confirming now is the API's 409, shown on the page.
        var refused = (await panel.PostAsync("/admin/reservations", "reservation", cancelledPage.Token, Action("confirm", id))).Is(HttpStatusCode.Conflict);
        Assert.Contains("The reservation is cancelled; it cannot become confirmed.", refused.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Confirming_an_overlapping_reservation_shows_the_conflict_and_changes_nothing()
    {
        var admin = await fx.AdminTokenAsync();
        var table = await fx.Api.NewTableIdAsync(admin);
        var start = FarDay().AddHours(18);
        var first = await fx.Api.RequestIdAsync(table, start);
        var overlapping = await fx.Api.RequestIdAsync(table, start.AddMinutes(60));
        (await fx.Api.ConfirmAsync(first, admin)).Is(HttpStatusCode.OK);
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.PostAsync("/admin/reservations", "reservation", (await panel.GetAsync("/admin/reservations")).Token, Action("confirm", overlapping)))
            .Is(HttpStatusCode.Conflict);

        Assert.Contains("role=\"alert\"", page.Html, StringComparison.Ordinal);
        Assert.Contains("The table has a confirmed reservation overlapping this one.", page.Text, StringComparison.Ordinal);
        Assert.Equal("pending", await StatusAsync(overlapping, admin));
    }

    [Fact]
    public async Task A_post_without_the_antiforgery_token_is_refused_and_changes_nothing()
    {
        var admin = await fx.AdminTokenAsync();
        var id = await fx.Api.RequestIdAsync(await fx.Api.NewTableIdAsync(admin), FarDay().AddHours(12));
        using var panel = await PanelClient.SignedInAsync(fx);

        (await panel.PostAsync("/admin/reservations", "reservation", token: null, Action("confirm", id))).Is(HttpStatusCode.BadRequest);

        Assert.Equal("pending", await StatusAsync(id, admin));
    }

    [Fact]
    public async Task The_pages_refuse_non_admins_and_anonymous_visitors()
    {
        var admin = await fx.AdminTokenAsync();
        var id = await fx.Api.RequestIdAsync(await fx.Api.NewTableIdAsync(admin), FarDay().AddHours(12));
        var user = await fx.NewUserAsync();
        using var anonymous = new PanelClient(fx.Host);
        var token = (await anonymous.GetAsync("/admin/signin")).Token;

        (await anonymous.SignInAsync(user.Username, user.Password)).Is(HttpStatusCode.Forbidden);
        foreach (var url in new[] { "/admin/reservations", "/admin/tables", "/admin/failed" })
        {
            (await anonymous.GetAsync(url)).IsSentToSignIn();
            (await anonymous.GetAsync(url, bearer: user.Token)).IsSentToSignIn();
        }

        (await anonymous.PostAsync("/admin/reservations", "reservation", token, Action("confirm", id))).IsSentToSignIn();
        Assert.Equal("pending", await StatusAsync(id, admin));
    }

    // A day of its own, far enough ahead that other tests' reservations rarely share it (midnight UTC).
    internal static DateTimeOffset FarDay() => Future(days: Random.Shared.Next(400, 3000), hour: 0);

    internal static string Day(DateTimeOffset day) => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    internal static Dictionary<string, string> Action(string verb, long id) => new() { ["reservation_action"] = $"{verb}:{id}" };

    private async Task<string> StatusAsync(long id, string admin) =>
        (await fx.Api.GetAsync($"/api/restaurant/reservations/{id}", admin)).Is(HttpStatusCode.OK).Body!["status"]!.GetValue<string>();

    private static long[] ReservationIds(PanelPage page) =>
        RowId().Matches(page.Html.Split("<tbody>")[1]).Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();

    [GeneratedRegex("<th scope=\"row\">#([0-9]+)</th>")]
    private static partial Regex RowId();
}

// Confirming through the page on a host wired to SMTP and the accounting receiver: the API's email and event.
public sealed class ReservationsPageNoticeTests(RestaurantHost r) : IClassFixture<RestaurantHost>
{
    [Fact]
    public async Task Confirming_through_the_page_writes_the_same_email_and_webhook_as_the_api()
    {
        var email = Email();
        var id = await r.Api.RequestIdAsync(await r.Api.NewTableIdAsync(r.Admin), Future(days: 70, hour: 17), email: email);
        Assert.Equal((1, 1), await r.OutboxCountsAsync(email, id));
        using var panel = await PanelClient.SignedInAsync(r.Host.Host);

        var page = (await panel.PostAsync("/admin/reservations", "reservation", (await panel.GetAsync("/admin/reservations")).Token,
            ReservationsPageTests.Action("confirm", id))).Is(HttpStatusCode.OK);

        Assert.Contains($"Reservation #{id} of Ann Guest is confirmed.", page.Text, StringComparison.Ordinal);
        Assert.Equal((2, 2), await r.OutboxCountsAsync(email, id));
        await r.EventAsync(id, "reservation.confirmed");
        // Two jobs, run by two workers: the emails may arrive in either order.
        var subjects = new[] { (await r.Mail.NextToAsync(email)).Subject ?? "", (await r.Mail.NextToAsync(email)).Subject ?? "" };
        Assert.Single(subjects, s => s.StartsWith("Reservation request received", StringComparison.Ordinal));
        Assert.Single(subjects, s => s.StartsWith("Reservation confirmed", StringComparison.Ordinal));
    }
}

public sealed class TablesPageTests(SlicesFixture fx)
{
    [Fact]
    public async Task Tables_are_listed_with_closed_ones_and_can_be_closed_and_reopened()
    {
        var admin = await fx.AdminTokenAsync();
        var price = PriceBase();
        var label = UniqueLabel("<i>");
        var open = (await fx.Api.NewTableAsync(admin, price: price, label: label))["id"]!.GetValue<long>();
        var closed = (await fx.Api.NewTableAsync(admin, price: price + 0.5m, canBeBooked: false))["id"]!.GetValue<long>();
        var window = $"/admin/tables?price_min={Money(price)}&price_max={Money(price + 1)}";
        using var panel = await PanelClient.SignedInAsync(fx);

        var list = (await panel.GetAsync(window)).Is(HttpStatusCode.OK);

        Assert.Contains($"value=\"close:{open}\"", list.Html, StringComparison.Ordinal);
        Assert.Contains($"value=\"reopen:{closed}\"", list.Html, StringComparison.Ordinal);
        Assert.Contains(WebUtilityEncode(label), list.Html, StringComparison.Ordinal);
        Assert.Contains("Showing 1–2 of 2", list.Text, StringComparison.Ordinal);

        var closing = (await panel.PostAsync(window, "table", list.Token, new() { ["table_action"] = $"close:{open}" })).Is(HttpStatusCode.OK);
        Assert.Contains($"Table {label} is closed.", closing.Text, StringComparison.Ordinal);
        Assert.Contains($"value=\"reopen:{open}\"", closing.Html, StringComparison.Ordinal);
        Assert.False(await CanBeBookedAsync(open, admin));
        (await fx.Api.GetAsync($"/api/restaurant/tables/{open}")).IsProblem(HttpStatusCode.NotFound, "not_found");

        var reopening = (await panel.PostAsync(window, "table", closing.Token, new() { ["table_action"] = $"reopen:{closed}" })).Is(HttpStatusCode.OK);
        Assert.Contains("is open for bookings again.", reopening.Text, StringComparison.Ordinal);
        Assert.True(await CanBeBookedAsync(closed, admin));
    }

    [Fact]
    public async Task Setting_a_price_now_or_later_goes_through_the_price_handler()
    {
        var admin = await fx.AdminTokenAsync();
        var table = (await fx.Api.NewTableAsync(admin, price: 20m))["id"]!.GetValue<long>();
        using var panel = await PanelClient.SignedInAsync(fx);
        var form = (await panel.GetAsync($"/admin/tables?price_table={table}")).Is(HttpStatusCode.OK);
        Assert.Contains($"<option value=\"{table}\" selected", form.Html, StringComparison.Ordinal);

        var now = (await panel.PostAsync("/admin/tables", "price", form.Token, new() { ["price_table"] = $"{table}", ["price"] = "31.50", ["effective_from"] = "" }))
            .Is(HttpStatusCode.OK);

        Assert.Contains("is 31.50 from", now.Text, StringComparison.Ordinal);
        Assert.Equal(31.50m, (await fx.Api.GetAsync($"/api/restaurant/tables/{table}", admin)).Body!["price"]!.GetValue<decimal>());

        var later = (await panel.PostAsync("/admin/tables", "price", now.Token,
            new() { ["price_table"] = $"{table}", ["price"] = "40", ["effective_from"] = "2031-06-01T18:00" })).Is(HttpStatusCode.OK);
        Assert.Contains("is 40.00 from 2031-06-01 18:00.", later.Text, StringComparison.Ordinal);
        Assert.Equal(31.50m, (await fx.Api.GetAsync($"/api/restaurant/tables/{table}", admin)).Body!["price"]!.GetValue<decimal>());
        var prices = (await fx.Api.GetAsync($"/api/restaurant/tables/{table}/prices", admin)).Is(HttpStatusCode.OK).Array;
        // The shared test host's restaurant time zone is UTC (the default).
        Assert.Contains(prices, p => p!["price"]!.GetValue<decimal>() == 40m && p["effective_from"]!.GetValue<string>() == "2031-06-01T18:00:00Z");

        var invalid = (await panel.PostAsync("/admin/tables", "price", later.Token,
            new() { ["price_table"] = $"{table}", ["price"] = "12.345", ["effective_from"] = "" })).Is(HttpStatusCode.BadRequest);
        Assert.Contains("role=\"alert\"", invalid.Html, StringComparison.Ordinal);
        Assert.Equal(31.50m, (await fx.Api.GetAsync($"/api/restaurant/tables/{table}", admin)).Body!["price"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task A_price_post_without_the_antiforgery_token_is_refused()
    {
        var admin = await fx.AdminTokenAsync();
        var table = (await fx.Api.NewTableAsync(admin, price: 20m))["id"]!.GetValue<long>();
        using var panel = await PanelClient.SignedInAsync(fx);

        (await panel.PostAsync("/admin/tables", "price", token: null, new() { ["price_table"] = $"{table}", ["price"] = "99" })).Is(HttpStatusCode.BadRequest);
        (await panel.PostAsync("/admin/tables", "table", token: null, new() { ["table_action"] = $"close:{table}" })).Is(HttpStatusCode.BadRequest);

        var now = (await fx.Api.GetAsync($"/api/restaurant/tables/{table}", admin)).Body!;
        Assert.Equal(20m, now["price"]!.GetValue<decimal>());
        Assert.True(now["can_be_booked"]!.GetValue<bool>());
    }

    private static string WebUtilityEncode(string s) => WebUtility.HtmlEncode(s);

    private async Task<bool> CanBeBookedAsync(long table, string admin) =>
        (await fx.Api.GetAsync($"/api/restaurant/tables/{table}", admin)).Is(HttpStatusCode.OK).Body!["can_be_booked"]!.GetValue<bool>();
}

public sealed class FailedWorkPageTests(SlicesFixture fx)
{
    [Fact]
    public async Task A_failed_webhook_is_listed_and_redelivered_from_the_page()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Otherwise = 204;
        var eventType = $"test.<{Guid.NewGuid():N}>"[..20];
        long id;
        await using (var conn = new NpgsqlConnection(fx.Database.ConnectionString))
        {
            // A delivery that gave up earlier and whose job is gone: the redeliver handler queues a new one.
            id = await conn.ExecuteScalarAsync<long>("""
                INSERT INTO webhook_deliveries (delivery_id, url, event_type, body, signature, state, created_at)
                VALUES (@deliveryId, @url, @eventType, '{"n":1}', 'sha256=00', 'failed', now()) RETURNING id
                """, new { deliveryId = Guid.NewGuid(), url = receiver.Url, eventType });
        }

        using var panel = await PanelClient.SignedInAsync(fx);
        var list = (await panel.GetAsync("/admin/failed")).Is(HttpStatusCode.OK);
        Assert.Contains($"value=\"{id}\"", list.Html, StringComparison.Ordinal);
        Assert.Contains(WebUtility.HtmlEncode(eventType), list.Html, StringComparison.Ordinal);

        var done = (await panel.PostAsync("/admin/failed", "redeliver", list.Token, new() { ["redeliver_id"] = $"{id}" })).Is(HttpStatusCode.OK);

        Assert.Contains($"Webhook #{id} ({eventType}) is queued for delivery again.", done.Text, StringComparison.Ordinal);
        await Eventually.HoldsAsync(() => !receiver.Requests.IsEmpty, () => "the webhook was not sent again");
        var again = (await panel.PostAsync("/admin/failed", "redeliver", done.Token, new() { ["redeliver_id"] = $"{id}" })).Is(HttpStatusCode.Conflict);
        Assert.Contains("Only a failed delivery can be redelivered", again.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Redelivering_without_the_antiforgery_token_is_refused()
    {
        using var panel = await PanelClient.SignedInAsync(fx);

        (await panel.PostAsync("/admin/failed", "redeliver", token: null, new() { ["redeliver_id"] = "1" })).Is(HttpStatusCode.BadRequest);
        (await panel.PostAsync("/admin/failed", "retry", token: null, new() { ["retry_id"] = "1" })).Is(HttpStatusCode.BadRequest);
    }
}

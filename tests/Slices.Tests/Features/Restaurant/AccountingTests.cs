using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using Slices.Api.Common.Work;
using Slices.Api.Features.Restaurant;
using Slices.Tests.Infrastructure;
using Slices.Tests.Work;
using static Slices.Tests.Features.Restaurant.RestaurantTestData;

namespace Slices.Tests.Features.Restaurant;

// The accounting system: signed events at a real HTTP receiver, and its signed callbacks.
public sealed class AccountingTests(RestaurantHost r, SlicesFixture fx) : IClassFixture<RestaurantHost>
{
    private async Task<(long Id, string Email, long Table)> RequestAsync(DateTimeOffset? start = null)
    {
        var email = Email();
        var table = await r.Api.NewTableIdAsync(r.Admin, price: 60m);
        var id = (await r.Api.RequestAsync(Request(table, start ?? Future(days: 15), email: email, phone: "+33 1 23 45 67 89", comment: "Window please")))
            .Is(HttpStatusCode.Created).Id;
        Assert.StartsWith("Reservation request received", (await r.Mail.NextToAsync(email)).Subject, StringComparison.Ordinal);
        return (id, email, table);
    }

    private async Task<string> StatusAsync(long id) =>
        (await r.Api.GetAsync($"/api/restaurant/reservations/{id}", r.Admin)).Is(HttpStatusCode.OK).Body!["status"]!.GetValue<string>();

    [Fact]
    public async Task A_new_request_reaches_the_accounting_system_as_a_signed_event_with_the_reservation()
    {
        var start = Future(days: 15, hour: 20);
        var (id, email, table) = await RequestAsync(start);
        var (body, request) = await r.EventAsync(id, "reservation.requested");

        // The receiver's own check of the signature, computed here from the raw bytes it got.
        Assert.Equal(Sign(RestaurantHost.Secret, System.Text.Encoding.UTF8.GetString(request.Body)), request.Header("X-Signature"));
        Assert.Equal("reservation.requested", request.Header("X-Event-Type"));
        Assert.Equal("application/json", request.Header("Content-Type"));
        var reservation = body["reservation"]!;
        Assert.Equal("pending", reservation["status"]!.GetValue<string>());
        Assert.Equal(table, reservation["table"]!.GetValue<long>());
        Assert.Equal(start.UtcDateTime, reservation["starts_at"]!.GetValue<DateTime>().ToUniversalTime());
        Assert.Equal(60m, reservation["price"]!.GetValue<decimal>());
        Assert.Equal(email, reservation["email"]!.GetValue<string>());
        Assert.Equal("+33 1 23 45 67 89", reservation["phone"]!.GetValue<string>());
        Assert.Equal("Window please", reservation["comment"]!.GetValue<string>());
        Assert.Equal("Ann Guest", reservation["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_signed_confirmation_confirms_emails_the_customer_and_a_replay_changes_nothing()
    {
        var (id, email, _) = await RequestAsync();
        var body = CallbackBody(id, "confirmed", "Table by the window");

        var reply = (await r.Api.CallbackAsync(body, RestaurantHost.Secret)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal("confirmed", reply["status"]!.GetValue<string>());
        Assert.Equal("Table by the window", reply["status_comment"]!.GetValue<string>());
        var mail = await r.Mail.NextToAsync(email);
        Assert.StartsWith("Reservation confirmed", mail.Subject, StringComparison.Ordinal);
        Assert.Contains("Message from the restaurant: Table by the window", mail.TextBody, StringComparison.Ordinal);
        var (confirmed, _) = await r.EventAsync(id, "reservation.confirmed");
        Assert.Equal("confirmed", confirmed["reservation"]!["status"]!.GetValue<string>());
        Assert.Equal((2, 2), await r.OutboxCountsAsync(email, id));

        var replay = (await r.Api.CallbackAsync(body, RestaurantHost.Secret)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal("confirmed", replay["status"]!.GetValue<string>());
        Assert.Equal((2, 2), await r.OutboxCountsAsync(email, id));
    }

    [Fact]
    public async Task A_callback_without_a_valid_signature_is_401_and_changes_nothing()
    {
        var (id, email, _) = await RequestAsync();
        var body = CallbackBody(id, "confirmed");
        string?[] signatures =
        [
            null,
            "",
            Sign("another-secret", body),
            Sign(RestaurantHost.Secret, CallbackBody(id, "rejected")),
            Sign(RestaurantHost.Secret, body).Replace("sha256=", "sha1=", StringComparison.Ordinal),
            Sign(RestaurantHost.Secret, body)[..^2],
            "sha256=zz",
        ];
        foreach (var signature in signatures)
        {
            (await r.Api.CallbackAsync(body, secret: null, signature)).IsProblem(HttpStatusCode.Unauthorized, "invalid_signature");
        }

        // A valid signature over other bytes (the body altered in transit) fails too.
        var signed = Sign(RestaurantHost.Secret, body);
        (await r.Api.CallbackAsync(body.Replace("confirmed", "rejected", StringComparison.Ordinal), secret: null, signed))
            .IsProblem(HttpStatusCode.Unauthorized, "invalid_signature");
        // Malformed JSON with a bad signature is 401 too: nothing is parsed before the signature holds.
        (await r.Api.CallbackAsync("{not json", secret: null, signed)).IsProblem(HttpStatusCode.Unauthorized, "invalid_signature");
        Assert.Equal("pending", await StatusAsync(id));
        Assert.Equal((1, 1), await r.OutboxCountsAsync(email, id));
    }

    [Fact]
    public async Task A_rejection_is_final_and_confirming_afterwards_is_409()
    {
        var (id, email, _) = await RequestAsync();
        var rejected = (await r.Api.CallbackAsync(CallbackBody(id, "rejected", "Fully booked"), RestaurantHost.Secret)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal("rejected", rejected["status"]!.GetValue<string>());
        var mail = await r.Mail.NextToAsync(email);
        Assert.StartsWith("Reservation request declined", mail.Subject, StringComparison.Ordinal);
        Assert.Contains("Fully booked", mail.TextBody, StringComparison.Ordinal);
        await r.EventAsync(id, "reservation.rejected");

        (await r.Api.CallbackAsync(CallbackBody(id, "confirmed"), RestaurantHost.Secret)).IsProblem(HttpStatusCode.Conflict, "invalid_transition");
        (await r.Api.ConfirmAsync(id, r.Admin)).IsProblem(HttpStatusCode.Conflict, "invalid_transition");
        Assert.Equal((2, 2), await r.OutboxCountsAsync(email, id));
    }

    [Fact]
    public async Task A_confirmation_that_overlaps_a_confirmed_reservation_is_409_reservation_conflict()
    {
        var start = Future(days: 16);
        var (first, _, table) = await RequestAsync(start);
        var second = await r.Api.RequestIdAsync(table, start.AddMinutes(30));
        (await r.Api.CallbackAsync(CallbackBody(first, "confirmed"), RestaurantHost.Secret)).Is(HttpStatusCode.OK);
        (await r.Api.CallbackAsync(CallbackBody(second, "confirmed"), RestaurantHost.Secret)).IsProblem(HttpStatusCode.Conflict, "reservation_conflict");
        Assert.Equal("pending", await StatusAsync(second));
        // The staff can still turn it down.
        (await r.Api.CallbackAsync(CallbackBody(second, "rejected"), RestaurantHost.Secret)).Is(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("""{"reservation":1,"status":"cancelled"}""", "status")]
    [InlineData("""{"reservation":1}""", "status")]
    [InlineData("""{"status":"confirmed"}""", "reservation")]
    public async Task A_signed_callback_that_breaks_a_rule_is_400_naming_the_field(string body, string field)
    {
        var reply = (await r.Api.CallbackAsync(body, RestaurantHost.Secret)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]![field]);
    }

    [Fact]
    public async Task A_signed_callback_for_an_unknown_reservation_is_404()
    {
        (await r.Api.CallbackAsync(CallbackBody(999_999_999, "confirmed"), RestaurantHost.Secret)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task An_admin_cancel_emails_the_customer_and_tells_the_accounting_system()
    {
        var (id, email, _) = await RequestAsync();
        (await r.Api.ConfirmAsync(id, r.Admin)).Is(HttpStatusCode.OK);
        Assert.StartsWith("Reservation confirmed", (await r.Mail.NextToAsync(email)).Subject, StringComparison.Ordinal);
        (await r.Api.PostAsync($"/api/restaurant/reservations/{id}/cancel", null, r.Admin)).Is(HttpStatusCode.OK);
        Assert.StartsWith("Reservation cancelled", (await r.Mail.NextToAsync(email)).Subject, StringComparison.Ordinal);
        await r.EventAsync(id, "reservation.cancelled");
        await r.EventAsync(id, "reservation.confirmed");
        // Deliveries are not ordered: each carries the reservation as it was at its change.
        Assert.Equal(["reservation.cancelled", "reservation.confirmed", "reservation.requested"], r.EventsOf(id).Select(e => e.Event).Order(StringComparer.Ordinal));
        Assert.Equal("cancelled", r.EventsOf(id).Single(e => e.Event == "reservation.cancelled").Body["reservation"]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_event_is_retried_after_receiver_errors_and_delivered_once()
    {
        // Let earlier tests' deliveries settle, so that the errors queued below are answered to this test's event.
        await Eventually.HoldsAsync(async () => await r.Host.ScalarAsync<long>("SELECT count(*) FROM webhook_deliveries WHERE state = 'pending'") == 0, () => "deliveries pending");
        r.Accounting.Answers.Enqueue(500);
        r.Accounting.Answers.Enqueue(503);
        var (id, _, _) = await RequestAsync();

        var delivery = await r.Host.ScalarAsync<long>("SELECT id FROM webhook_deliveries WHERE (body::jsonb -> 'reservation' ->> 'id')::bigint = @id", new { id });
        await Eventually.HoldsAsync(async () => await r.Host.ScalarAsync<string>("SELECT state FROM webhook_deliveries WHERE id = @delivery", new { delivery }) == "delivered",
            () => "not delivered");
        var detail = (await r.Api.GetAsync($"/api/admin/webhooks/{delivery}", r.Admin)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal("reservation.requested", detail["event_type"]!.GetValue<string>());
        Assert.Equal([500, 503, 200], detail["attempt_log"]!.AsArray().Select(a => a!["status_code"]!.GetValue<int>()));
        var received = r.EventsOf(id);
        Assert.Equal(3, received.Count);
        Assert.Single(received.Select(e => e.Request.Header("X-Delivery-Id")).Distinct());
    }

    [Fact]
    public async Task Without_an_accounting_url_events_stay_queued_as_pending_jobs_and_go_out_once_an_instance_has_a_url()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var database = await WorkHost.NewDatabaseAsync(fx);
        long reservation;
        long job;
        await using (var unconfigured = await WorkHost.StartAsync(fx, connectionString: database))
        {
            var admin = (await unconfigured.Api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;
            reservation = await unconfigured.Api.RequestIdAsync(await unconfigured.Api.NewTableIdAsync(admin), Future(days: 17));
            JsonNode? held = null;
            // Looked at (its last_error says why it waits) and back in the queue: not failed, no attempt used up.
            await Eventually.HoldsAsync(async () =>
                (held = (await unconfigured.Api.GetAsync("/api/admin/jobs?state=pending&kind=restaurant.accounting.forward", admin)).Array.SingleOrDefault())
                    is { } j && j["last_error"] is not null,
                () => $"no held event: {held?.ToJsonString()}");
            Assert.Contains("Restaurant:Accounting:Url is not configured", held!["last_error"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(0, held["attempts"]!.GetValue<int>());
            Assert.Equal(AccountingFeed.HeldRecheck, held["run_at"]!.GetValue<DateTime>() - held["updated_at"]!.GetValue<DateTime>());
            Assert.Empty((await unconfigured.Api.GetAsync("/api/admin/jobs?state=failed&kind=restaurant.accounting.forward", admin)).Array);
            job = held["id"]!.GetValue<long>();
            Assert.Equal(0, await unconfigured.ScalarAsync<long>("SELECT count(*) FROM webhook_deliveries"));
        }

        // Restarted with a URL, by the time the held event is looked at again (its clock): it goes out, nobody retries anything.
        var later = new FakeTimeProvider(DateTimeOffset.UtcNow + AccountingFeed.HeldRecheck + TimeSpan.FromSeconds(5));
        await using var configured = await WorkHost.StartAsync(fx, connectionString: database, clock: later, settings: new Dictionary<string, string?>
        {
            ["Restaurant:Accounting:Url"] = receiver.Url,
            ["Restaurant:Accounting:Secret"] = RestaurantHost.Secret,
        });

        await configured.WaitForJobAsync(job, j => j.State == "succeeded");
        await Eventually.HoldsAsync(() => !receiver.Requests.IsEmpty, () => "nothing received");
        var request = Assert.Single(receiver.Requests);
        var body = JsonNode.Parse(request.Body)!;
        Assert.Equal("reservation.requested", body["event"]!.GetValue<string>());
        Assert.Equal(reservation, body["reservation"]!["id"]!.GetValue<long>());
        Assert.Equal(Sign(RestaurantHost.Secret, System.Text.Encoding.UTF8.GetString(request.Body)), request.Header("X-Signature"));
        Assert.True(WebhookSignature.Verify(RestaurantHost.Secret, request.Body, request.Header("X-Signature")));
        Assert.Equal(1, await configured.ScalarAsync<long>("SELECT count(*) FROM webhook_deliveries"));
        Assert.Equal(job, await configured.ScalarAsync<long>("SELECT job_id FROM restaurant_accounting_forwards"));
    }
}

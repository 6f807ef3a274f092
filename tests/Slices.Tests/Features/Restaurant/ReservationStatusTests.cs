using System.Net;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Restaurant.RestaurantTestData;

namespace Slices.Tests.Features.Restaurant;

public sealed class ReservationStatusTests(SlicesFixture fx)
{
    [Fact]
    public async Task An_admin_confirms_a_pending_reservation_and_confirming_again_is_harmless()
    {
        var admin = await fx.AdminTokenAsync();
        var id = await fx.Api.RequestIdAsync(await fx.Api.NewTableIdAsync(admin), Future(days: 50));
        var confirmed = (await fx.Api.ConfirmAsync(id, admin)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal("confirmed", confirmed["status"]!.GetValue<string>());
        Assert.Equal(id, confirmed["id"]!.GetValue<long>());
        var again = (await fx.Api.ConfirmAsync(id, admin)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal(confirmed.ToJsonString(), again.ToJsonString());
    }

    [Fact]
    public async Task Confirming_a_reservation_that_overlaps_a_confirmed_one_is_409_and_changes_nothing()
    {
        var admin = await fx.AdminTokenAsync();
        var table = await fx.Api.NewTableIdAsync(admin);
        var start = Future(days: 51);
        var first = await fx.Api.RequestIdAsync(table, start);
        var overlapping = await fx.Api.RequestIdAsync(table, start.AddMinutes(90));
        var touching = await fx.Api.RequestIdAsync(table, start.AddMinutes(120));
        (await fx.Api.ConfirmAsync(first, admin)).Is(HttpStatusCode.OK);

        (await fx.Api.ConfirmAsync(overlapping, admin)).IsProblem(HttpStatusCode.Conflict, "reservation_conflict");
        Assert.Equal("pending", (await fx.Api.GetAsync($"/api/restaurant/reservations/{overlapping}", admin)).Body!["status"]!.GetValue<string>());
        (await fx.Api.ConfirmAsync(touching, admin)).Is(HttpStatusCode.OK);

        // Once the first is cancelled the slot is free again.
        (await fx.Api.PostAsync($"/api/restaurant/reservations/{first}/cancel", null, admin)).Is(HttpStatusCode.OK);
        (await fx.Api.ConfirmAsync(overlapping, admin)).IsProblem(HttpStatusCode.Conflict, "reservation_conflict");
        (await fx.Api.PostAsync($"/api/restaurant/reservations/{touching}/cancel", null, admin)).Is(HttpStatusCode.OK);
        (await fx.Api.ConfirmAsync(overlapping, admin)).Is(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Of_ten_parallel_confirms_of_overlapping_requests_exactly_one_wins()
    {
        var admin = await fx.AdminTokenAsync();
        var table = await fx.Api.NewTableIdAsync(admin);
        var start = Future(days: 52);
        var ids = new List<long>();
        for (var i = 0; i < 10; i++)
        {
            ids.Add(await fx.Api.RequestIdAsync(table, start.AddMinutes(10 * i)));
        }

        var replies = await Task.WhenAll(ids.Select(id => fx.Api.ConfirmAsync(id, admin)));

        Assert.Single(replies, r => r.Status == HttpStatusCode.OK);
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.OK), r => r.IsProblem(HttpStatusCode.Conflict, "reservation_conflict"));
        var confirmed = (await fx.Api.GetAsync($"/api/restaurant/reservations?table={table}&status=confirmed", admin)).Is(HttpStatusCode.OK);
        Assert.Equal([replies.Single(r => r.Status == HttpStatusCode.OK).Id], confirmed.Ids());
        Assert.Equal("9", (await fx.Api.GetAsync($"/api/restaurant/reservations?table={table}&status=pending", admin)).Header("X-Total-Count"));
    }

    [Fact]
    public async Task Cancelled_is_final_and_an_impossible_transition_is_409()
    {
        var admin = await fx.AdminTokenAsync();
        var id = await fx.Api.RequestIdAsync(await fx.Api.NewTableIdAsync(admin), Future(days: 53));
        var cancelled = (await fx.Api.PostAsync($"/api/restaurant/reservations/{id}/cancel", null, admin)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal("cancelled", cancelled["status"]!.GetValue<string>());
        (await fx.Api.PostAsync($"/api/restaurant/reservations/{id}/cancel", null, admin)).Is(HttpStatusCode.OK);
        var reply = (await fx.Api.ConfirmAsync(id, admin)).IsProblem(HttpStatusCode.Conflict, "invalid_transition");
        Assert.Contains("cancelled", reply.Body!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_reservations_are_404()
    {
        var admin = await fx.AdminTokenAsync();
        (await fx.Api.ConfirmAsync(999_999_999, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.PostAsync("/api/restaurant/reservations/999999999/cancel", null, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.GetAsync("/api/restaurant/reservations/999999999", admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task A_reservation_that_has_started_can_no_longer_be_cancelled()
    {
        var admin = await fx.AdminTokenAsync();
        var start = DateTimeOffset.UtcNow.AddSeconds(2);
        var id = (await fx.Api.RequestAsync(new { table = await fx.Api.NewTableIdAsync(admin), starts_at = start, duration_minutes = 30, guests = 1, name = "Late", phone = "+1 555 0100" }))
            .Is(HttpStatusCode.Created).Id;
        (await fx.Api.ConfirmAsync(id, admin)).Is(HttpStatusCode.OK);
        await Task.Delay(start - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(200), TestContext.Current.CancellationToken);

        (await fx.Api.PostAsync($"/api/restaurant/reservations/{id}/cancel", null, admin)).IsProblem(HttpStatusCode.Conflict, "reservation_started");
        Assert.Equal("confirmed", (await fx.Api.GetAsync($"/api/restaurant/reservations/{id}", admin)).Body!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Admins_list_reservations_by_status_day_and_activity_with_paging()
    {
        var admin = await fx.AdminTokenAsync();
        var table = await fx.Api.NewTableIdAsync(admin);
        var day = Future(days: 60, hour: 0);
        var morning = await fx.Api.RequestIdAsync(table, day.AddHours(9));
        var evening = await fx.Api.RequestIdAsync(table, day.AddHours(20));
        var nextDay = await fx.Api.RequestIdAsync(table, day.AddHours(24 + 1));
        var cancelled = await fx.Api.RequestIdAsync(table, day.AddHours(12));
        (await fx.Api.ConfirmAsync(evening, admin)).Is(HttpStatusCode.OK);
        (await fx.Api.PostAsync($"/api/restaurant/reservations/{cancelled}/cancel", null, admin)).Is(HttpStatusCode.OK);

        async Task<long[]> List(string query) =>
            (await fx.Api.GetAsync($"/api/restaurant/reservations?table={table}&{query}", admin)).Is(HttpStatusCode.OK).Ids();

        Assert.Equal([morning, cancelled, evening, nextDay], await List(""));
        Assert.Equal([morning, cancelled, evening], await List($"date={day:yyyy-MM-dd}"));
        Assert.Equal([evening], await List("status=confirmed"));
        Assert.Equal([morning, nextDay], await List("status=pending"));
        Assert.Equal([morning, evening, nextDay], await List("active=true"));
        Assert.Equal([cancelled], await List("active=false"));
        Assert.Equal([morning, evening], await List($"active=true&date={day:yyyy-MM-dd}"));

        var page = (await fx.Api.GetAsync($"/api/restaurant/reservations?table={table}&limit=2&offset=1", admin)).Is(HttpStatusCode.OK);
        Assert.Equal([cancelled, evening], page.Ids());
        Assert.Equal("4", page.Header("X-Total-Count"));
        Assert.Contains("rel=\"next\"", page.Header("Link"), StringComparison.Ordinal);
        var full = (await fx.Api.GetAsync($"/api/restaurant/reservations/{morning}", admin)).Is(HttpStatusCode.OK);
        Assert.NotNull(full.Header("ETag"));
        Assert.Equal("Ann Guest", full.Body!["name"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("status=done", "status")]
    [InlineData("date=2026-02-30", "date")]
    [InlineData("active=maybe", "active")]
    [InlineData("limit=501", "limit")]
    public async Task A_bad_list_parameter_is_400_naming_it(string query, string field)
    {
        var reply = (await fx.Api.GetAsync($"/api/restaurant/reservations?{query}", await fx.AdminTokenAsync())).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]![field]);
    }
}

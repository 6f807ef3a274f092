using System.Net;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Restaurant.RestaurantTestData;

namespace Slices.Tests.Features.Restaurant;

public sealed class RequestReservationTests(SlicesFixture fx)
{
    [Fact]
    public async Task Anyone_requests_a_table_and_gets_a_pending_reservation_with_the_price_of_now()
    {
        var admin = await fx.AdminTokenAsync();
        var table = await fx.Api.NewTableIdAsync(admin, seats: 4, price: 42.5m);
        var start = Future(days: 20, hour: 19, minute: 30);

        var reply = (await fx.Api.RequestAsync(new { table, starts_at = Iso(start), guests = 4, name = "Ann", email = Email() })).Is(HttpStatusCode.Created);
        var r = reply.Body!;
        Assert.Equal($"/api/restaurant/reservations/{reply.Id}", reply.Header("Location"));
        Assert.Equal("pending", r["status"]!.GetValue<string>());
        Assert.Equal(table, r["table"]!.GetValue<long>());
        Assert.Equal(Iso(start), r["starts_at"]!.GetValue<string>());
        Assert.Equal(Iso(start.AddMinutes(120)), r["ends_at"]!.GetValue<string>());
        Assert.Equal(4, r["guests"]!.GetValue<int>());
        Assert.Equal(42.5m, r["price"]!.GetValue<decimal>());
        // The public answer carries no contact details.
        Assert.Equal(["id", "status", "table", "starts_at", "ends_at", "guests", "price"], r.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task A_start_without_an_offset_is_UTC_whatever_the_servers_time_zone()
    {
        var table = await fx.Api.NewTableIdAsync(await fx.AdminTokenAsync());
        var start = Future(days: 22, hour: 19);

        var r = (await fx.Api.RequestAsync(new { table, starts_at = Naive(start), guests = 1, name = "Cy", email = Email() })).Is(HttpStatusCode.Created).Body!;

        Assert.Equal(Iso(start), r["starts_at"]!.GetValue<string>());
        var odd = await fx.Api.RequestAsync(new { table, starts_at = "01.05.2031 19:00", guests = 1, name = "Cy", email = Email() });
        odd.IsProblem(HttpStatusCode.BadRequest, "malformed_json");
    }

    [Fact]
    public async Task A_phone_alone_is_enough_and_the_duration_is_the_customers_choice()
    {
        var table = await fx.Api.NewTableIdAsync(await fx.AdminTokenAsync());
        var start = Future(days: 21);
        var r = (await fx.Api.RequestAsync(new { table, starts_at = Iso(start), duration_minutes = 30, guests = 1, name = "Bo", phone = "+44 20 7946 0958" }))
            .Is(HttpStatusCode.Created).Body!;
        Assert.Equal(Iso(start.AddMinutes(30)), r["ends_at"]!.GetValue<string>());

        var stored = (await fx.Api.GetAsync($"/api/restaurant/reservations/{r["id"]}", await fx.AdminTokenAsync())).Is(HttpStatusCode.OK).Body!;
        Assert.Equal("+44 20 7946 0958", stored["phone"]!.GetValue<string>());
        Assert.Null(stored["email"]);
        Assert.Equal("Bo", stored["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Without_an_email_or_a_phone_the_request_is_400()
    {
        var table = await fx.Api.NewTableIdAsync(await fx.AdminTokenAsync());
        var reply = (await fx.Api.RequestAsync(new { table, starts_at = Iso(Future()), guests = 2, name = "Ann" })).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]!["email"]);
        Assert.NotNull(reply.Body["errors"]!["phone"]);
        (await fx.Api.RequestAsync(new { table, starts_at = Iso(Future()), guests = 2, name = "Ann", email = "", phone = "" }))
            .IsProblem(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task More_guests_than_seats_is_400_on_guests()
    {
        var table = await fx.Api.NewTableIdAsync(await fx.AdminTokenAsync(), seats: 4);
        var reply = (await fx.Api.RequestAsync(Request(table, Future(), guests: 5))).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Contains("4", reply.Body!["errors"]!["guests"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        (await fx.Api.RequestAsync(Request(table, Future(), guests: 4))).Is(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_closed_or_unknown_table_is_400_on_table()
    {
        var admin = await fx.AdminTokenAsync();
        var closed = (await fx.Api.NewTableAsync(admin, canBeBooked: false))["id"]!.GetValue<long>();
        var reply = (await fx.Api.RequestAsync(Request(closed, Future()))).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Contains("closed", reply.Body!["errors"]!["table"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        var unknown = (await fx.Api.RequestAsync(Request(999_999_999, Future()))).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(unknown.Body!["errors"]!["table"]);
    }

    [Fact]
    public async Task A_start_in_the_past_is_400_on_starts_at()
    {
        var table = await fx.Api.NewTableIdAsync(await fx.AdminTokenAsync());
        var reply = (await fx.Api.RequestAsync(Request(table, DateTimeOffset.UtcNow.AddMinutes(-1)))).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]!["starts_at"]);
    }

    [Theory]
    [InlineData("duration_minutes", 29)]
    [InlineData("duration_minutes", 481)]
    [InlineData("guests", 0)]
    [InlineData("name", "")]
    [InlineData("email", "not-an-address")]
    [InlineData("email", "Ann <ann@example.com>")]
    [InlineData("phone", "call me")]
    [InlineData("comment", 1001)]
    public async Task A_field_out_of_its_range_is_400_naming_it(string field, object value)
    {
        var table = await fx.Api.NewTableIdAsync(await fx.AdminTokenAsync());
        var body = new Dictionary<string, object?>
        {
            ["table"] = table, ["starts_at"] = Iso(Future()), ["guests"] = 2, ["name"] = "Ann", ["email"] = Email(), ["phone"] = null,
        };
        body[field] = field == "comment" ? new string('c', (int)value) : value;
        var reply = (await fx.Api.RequestAsync(body)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]![field]);
    }

    [Fact]
    public async Task A_comment_of_1000_characters_is_accepted()
    {
        var table = await fx.Api.NewTableIdAsync(await fx.AdminTokenAsync());
        (await fx.Api.RequestAsync(Request(table, Future(), comment: new string('c', 1000)))).Is(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Pending_requests_for_the_same_time_do_not_block_each_other()
    {
        var table = await fx.Api.NewTableIdAsync(await fx.AdminTokenAsync());
        var start = Future(days: 33);
        var replies = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => fx.Api.RequestAsync(Request(table, start))));
        Assert.All(replies, r => r.Is(HttpStatusCode.Created));
        Assert.Equal(5, replies.Select(r => r.Id).Distinct().Count());
        var listed = (await fx.Api.GetAsync($"/api/restaurant/reservations?table={table}&status=pending", await fx.AdminTokenAsync())).Is(HttpStatusCode.OK);
        Assert.Equal("5", listed.Header("X-Total-Count"));
    }

    [Fact]
    public async Task A_repeated_request_with_the_same_idempotency_key_creates_one_reservation()
    {
        var table = await fx.Api.NewTableIdAsync(await fx.AdminTokenAsync());
        var body = Request(table, Future(days: 34));
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };
        var first = (await fx.Api.PostAsync("/api/restaurant/reservations", body, headers: key)).Is(HttpStatusCode.Created);
        var again = (await fx.Api.PostAsync("/api/restaurant/reservations", body, headers: key)).Is(HttpStatusCode.Created);
        Assert.Equal(first.Id, again.Id);
        Assert.Equal("true", again.Header("Idempotent-Replayed"));
        var listed = (await fx.Api.GetAsync($"/api/restaurant/reservations?table={table}", await fx.AdminTokenAsync())).Is(HttpStatusCode.OK);
        Assert.Equal([first.Id], listed.Ids());
    }
}

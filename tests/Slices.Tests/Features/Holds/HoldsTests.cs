using System.Net;
using Slices.Tests.Features.Cassettes;
using Slices.Tests.Features.Restaurant;
using Slices.Tests.Features.Stages;
using Slices.Tests.Features.Trainings;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Holds;

public sealed class HoldsTests(SlicesFixture fx)
{
    [Fact]
    public async Task A_stage_slot_hold_keeps_the_slot_from_everyone_until_it_is_released()
    {
        var alice = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var date = StageTestData.FutureDate();

        var held = (await fx.Api.HoldAsync(alice.Token, HoldTestData.StageSlot(stage, date))).Is(HttpStatusCode.Created);
        Assert.Equal($"/api/holds/{held.Id}", held.Header("Location"));
        Assert.Equal("stage_slot", held.Member("kind").GetValue<string>());
        Assert.Equal("active", held.Status());
        Assert.Equal("10:00:00", held.Member("start_time").GetValue<string>());
        Assert.Equal("11:00:00", held.Member("end_time").GetValue<string>());
        var expires = held.Member("expires_at").GetValue<DateTimeOffset>();
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(540), TimeSpan.FromSeconds(601));

        (await fx.BookAsync(bob.Token, stage, date, "10:30", "11:30")).IsProblem(HttpStatusCode.Conflict, "booking_conflict");
        (await fx.Api.HoldAsync(bob.Token, HoldTestData.StageSlot(stage, date, "09:30", "10:30"))).IsProblem(HttpStatusCode.Conflict, "booking_conflict");
        var free = (await fx.Api.GetAsync($"/api/stages/{stage}/availability?date={date}", bob.Token)).Is(HttpStatusCode.OK).Array;
        Assert.DoesNotContain(free, w => w!["start_time"]!.GetValue<string>() == "10:00:00");
        // A hold is no booking: no booking route shows it.
        Assert.Empty((await fx.Api.GetAsync($"/api/bookings?stage={stage}", alice.Token)).Is(HttpStatusCode.OK).Array);
        Assert.Empty((await fx.Api.GetAsync($"/api/bookings?stage={stage}", await fx.AdminTokenAsync())).Is(HttpStatusCode.OK).Array);

        (await fx.Api.DeleteAsync($"/api/holds/{held.Id}", alice.Token)).Is(HttpStatusCode.NoContent);
        Assert.Equal("released", (await fx.Api.GetAsync($"/api/holds/{held.Id}", alice.Token)).Is(HttpStatusCode.OK).Status());
        (await fx.BookAsync(bob.Token, stage, date, "10:30", "11:30")).Is(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Confirming_a_stage_slot_hold_answers_the_booking_and_ends_the_hold_converted()
    {
        var alice = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var date = StageTestData.FutureDate();
        var hold = await fx.Api.HoldIdAsync(alice.Token, new { kind = "stage_slot", stage, date, start_time = "14:00", finish_time = "15:30" });

        var booking = (await fx.Api.ConfirmHoldAsync(alice.Token, hold)).Is(HttpStatusCode.Created);
        Assert.Equal($"/api/bookings/{booking.Id}", booking.Header("Location"));
        Assert.Equal(alice.Id, booking.Member("user").GetValue<long>());
        Assert.Equal("15:30:00", booking.Member("finish_time").GetValue<string>());
        Assert.True(booking.Member("active").GetValue<bool>());
        (await fx.Api.GetAsync($"/api/bookings/{booking.Id}", alice.Token)).Is(HttpStatusCode.OK);

        var after = (await fx.Api.GetAsync($"/api/holds/{hold}", alice.Token)).Is(HttpStatusCode.OK);
        Assert.Equal("converted", after.Status());
        Assert.Equal($"/api/bookings/{booking.Id}", after.Member("location").GetValue<string>());
        (await fx.Api.ConfirmHoldAsync(alice.Token, hold)).IsProblem(HttpStatusCode.Conflict, "hold_not_active");
        (await fx.Api.DeleteAsync($"/api/holds/{hold}", alice.Token)).IsProblem(HttpStatusCode.Conflict, "hold_not_active");
        (await fx.Api.PostAsync($"/api/holds/{hold}/extend", new { ttl_seconds = 60 }, alice.Token)).IsProblem(HttpStatusCode.Conflict, "hold_not_active");
        Assert.Equal(1L, await HoldTestData.ScalarAsync<long>(fx.Database.ConnectionString,
            "SELECT count(*) FROM bookings WHERE stage_id = @stage", new { stage }));
    }

    [Fact]
    public async Task A_training_place_hold_fills_the_last_place_and_its_confirm_enrols()
    {
        var alice = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(alice, bob), "2031-09-01", capacity: 1);

        var hold = (await fx.Api.HoldAsync(alice.Token, HoldTestData.TrainingPlace(training))).Is(HttpStatusCode.Created);
        Assert.Equal(training, hold.Member("training").GetValue<long>());
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, bob.Token)).IsProblem(HttpStatusCode.Conflict, "training_full");
        (await fx.Api.HoldAsync(bob.Token, HoldTestData.TrainingPlace(training))).IsProblem(HttpStatusCode.Conflict, "training_full");
        (await fx.Api.HoldAsync(alice.Token, HoldTestData.TrainingPlace(training))).IsProblem(HttpStatusCode.Conflict, "already_held");

        var enrolled = (await fx.Api.ConfirmHoldAsync(alice.Token, hold.Id)).Is(HttpStatusCode.Created);
        Assert.Equal($"/api/trainings/{training}", enrolled.Header("Location"));
        Assert.Equal([alice.Id], enrolled.Member("users").Longs());
        Assert.Equal((1, 0), await CountsAsync(training));
        (await fx.Api.HoldAsync(alice.Token, HoldTestData.TrainingPlace(training))).IsProblem(HttpStatusCode.Conflict, "already_enrolled");
    }

    [Fact]
    public async Task A_training_place_is_held_only_by_a_member_of_its_group()
    {
        var alice = await fx.NewUserAsync();
        var stranger = await fx.NewUserAsync();
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(alice), "2031-09-02", capacity: 3);

        (await fx.Api.HoldAsync(stranger.Token, HoldTestData.TrainingPlace(training))).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        (await fx.Api.HoldAsync(await fx.AdminTokenAsync(), HoldTestData.TrainingPlace(training))).IsProblem(HttpStatusCode.Forbidden, "not_a_group_member");
        (await fx.Api.HoldAsync(alice.Token, HoldTestData.TrainingPlace(999_999_999))).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal((0, 0), await CountsAsync(training));
    }

    [Fact]
    public async Task A_cassette_hold_takes_the_stock_at_once_and_its_confirm_places_the_order()
    {
        var alice = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        var cassette = (await Catalogue.AddAsync(fx, quantity: 3))["id"]!.GetValue<long>();

        var hold = (await fx.Api.HoldAsync(alice.Token, HoldTestData.Cassette(cassette, 2))).Is(HttpStatusCode.Created);
        Assert.Equal(2, hold.Member("quantity").GetValue<int>());
        Assert.Equal(1, await Catalogue.StockAsync(fx, cassette));
        (await fx.Api.PostAsync("/api/orders", Orders.Shop.Items((cassette, 2)), bob.Token)).IsProblem(HttpStatusCode.Conflict, "out_of_stock");
        (await fx.Api.HoldAsync(bob.Token, HoldTestData.Cassette(cassette, 2))).IsProblem(HttpStatusCode.Conflict, "out_of_stock");

        var order = (await fx.Api.ConfirmHoldAsync(alice.Token, hold.Id)).Is(HttpStatusCode.Created);
        Assert.Equal($"/api/orders/{order.Id}", order.Header("Location"));
        Assert.Equal("placed", order.Status());
        Assert.Equal(2, order.Member("items")[0]!["quantity"]!.GetValue<int>());
        Assert.Equal(1, await Catalogue.StockAsync(fx, cassette));

        var second = await fx.Api.HoldIdAsync(bob.Token, HoldTestData.Cassette(cassette, 1));
        Assert.Equal(0, await Catalogue.StockAsync(fx, cassette));
        (await fx.Api.DeleteAsync($"/api/holds/{second}", bob.Token)).Is(HttpStatusCode.NoContent);
        Assert.Equal(1, await Catalogue.StockAsync(fx, cassette));
    }

    [Fact]
    public async Task A_restaurant_table_hold_keeps_the_table_from_being_confirmed_and_its_confirm_requests_the_reservation()
    {
        var alice = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        var admin = await fx.AdminTokenAsync();
        var table = await fx.Api.NewTableIdAsync(admin, seats: 4);
        var at = RestaurantTestData.Future(days: Random.Shared.Next(30, 300));

        var hold = (await fx.Api.HoldAsync(alice.Token, HoldTestData.Table(table, at, duration: 90))).Is(HttpStatusCode.Created);
        Assert.Equal(90, hold.Member("duration").GetValue<int>());
        var pending = await fx.Api.RequestIdAsync(table, at.AddMinutes(60));
        (await fx.Api.ConfirmAsync(pending, admin)).IsProblem(HttpStatusCode.Conflict, "reservation_conflict");
        (await fx.Api.HoldAsync(bob.Token, HoldTestData.Table(table, at.AddMinutes(30)))).IsProblem(HttpStatusCode.Conflict, "reservation_conflict");
        var search = await fx.Api.GetAsync($"/api/restaurant/tables?at={Uri.EscapeDataString(RestaurantTestData.Iso(at))}&duration_minutes=60&limit=500");
        Assert.DoesNotContain(table, Schedule.Ids(search.Is(HttpStatusCode.OK)));
        // The hold's placeholder is no reservation: the admin list does not show it.
        Assert.Equal([pending], Schedule.Ids((await fx.Api.GetAsync($"/api/restaurant/reservations?table={table}", admin)).Is(HttpStatusCode.OK)));

        var missing = (await fx.Api.ConfirmHoldAsync(alice.Token, hold.Id)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(missing.Body!["errors"]!["guests"]);
        Assert.NotNull(missing.Body!["errors"]!["name"]);
        Assert.Equal("active", (await fx.Api.GetAsync($"/api/holds/{hold.Id}", alice.Token)).Status());

        var requested = (await fx.Api.ConfirmHoldAsync(alice.Token, hold.Id, new { guests = 3, name = "Alice", email = RestaurantTestData.Email() }))
            .Is(HttpStatusCode.Created);
        Assert.Equal($"/api/restaurant/reservations/{requested.Id}", requested.Header("Location"));
        Assert.Equal("pending", requested.Status());
        Assert.Equal(3, requested.Member("guests").GetValue<int>());
        (await fx.Api.ConfirmAsync(pending, admin)).Is(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Someone_elses_hold_is_not_found_on_every_route()
    {
        var alice = await fx.NewUserAsync();
        var mallory = await fx.NewUserAsync();
        var cassette = (await Catalogue.AddAsync(fx, quantity: 2))["id"]!.GetValue<long>();
        var hold = await fx.Api.HoldIdAsync(alice.Token, HoldTestData.Cassette(cassette, 1));

        (await fx.Api.GetAsync($"/api/holds/{hold}", mallory.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.PostAsync($"/api/holds/{hold}/extend", new { ttl_seconds = 60 }, mallory.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.ConfirmHoldAsync(mallory.Token, hold)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.DeleteAsync($"/api/holds/{hold}", mallory.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        Assert.Empty((await fx.Api.GetAsync("/api/holds", mallory.Token)).Is(HttpStatusCode.OK).Array);
        (await fx.Api.GetAsync($"/api/holds/{hold}", await fx.AdminTokenAsync())).IsProblem(HttpStatusCode.NotFound, "not_found");
        Assert.Equal("active", (await fx.Api.GetAsync($"/api/holds/{hold}", alice.Token)).Is(HttpStatusCode.OK).Status());
        (await fx.Api.GetAsync($"/api/holds/{hold}")).Is(HttpStatusCode.Unauthorized);
    }

    [Theory]
    [InlineData("{}", "kind")]
    [InlineData("""{"kind":"parking_lot"}""", "kind")]
    [InlineData("""{"kind":"cassette","cassette":1,"quantity":1,"ttl_seconds":29}""", "ttl_seconds")]
    [InlineData("""{"kind":"cassette","cassette":1,"quantity":1,"ttl_seconds":3601}""", "ttl_seconds")]
    [InlineData("""{"kind":"cassette","cassette":1,"quantity":0}""", "quantity")]
    [InlineData("""{"kind":"cassette","quantity":1}""", "cassette")]
    [InlineData("""{"kind":"stage_slot","date":"2031-01-01","start_time":"10:00","end_time":"11:00"}""", "stage")]
    [InlineData("""{"kind":"stage_slot","stage":1,"date":"2031-01-01","start_time":"10:00"}""", "end_time")]
    [InlineData("""{"kind":"training_place"}""", "training")]
    [InlineData("""{"kind":"restaurant_table","table":1,"starts_at":"2001-01-01T10:00:00Z"}""", "starts_at")]
    [InlineData("""{"kind":"restaurant_table","table":1,"starts_at":"2041-01-01T10:00:00Z","duration":5}""", "duration")]
    public async Task A_bad_hold_is_400_naming_the_member_and_holds_nothing(string body, string member)
    {
        var alice = await fx.NewUserAsync();
        var reply = (await fx.Api.SendAsync(HttpMethod.Post, "/api/holds", body, alice.Token)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]![member]);
        Assert.Equal(0L, await HoldTestData.ScalarAsync<long>(fx.Database.ConnectionString, "SELECT count(*) FROM holds WHERE user_id = @Id", new { alice.Id }));
    }

    [Fact]
    public async Task Holding_what_does_not_exist_or_breaks_its_rules_is_400_naming_the_member()
    {
        var alice = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync(open: "09:00", close: "18:00");
        async Task RefusedAsync(object body, string member) =>
            Assert.NotNull((await fx.Api.HoldAsync(alice.Token, body)).IsProblem(HttpStatusCode.BadRequest, "validation_failed").Body!["errors"]![member]);

        await RefusedAsync(HoldTestData.Cassette(999_999_999, 1), "cassette");
        await RefusedAsync(HoldTestData.Table(999_999_999, RestaurantTestData.Future()), "table");
        await RefusedAsync(HoldTestData.StageSlot(999_999_999, StageTestData.FutureDate()), "stage");
        await RefusedAsync(HoldTestData.StageSlot(stage, StageTestData.FutureDate(), "17:00", "19:00"), "end_time");
        await RefusedAsync(HoldTestData.StageSlot(stage, StageTestData.Yesterday()), "date");
        Assert.Equal(0L, await HoldTestData.ScalarAsync<long>(fx.Database.ConnectionString, "SELECT count(*) FROM holds WHERE user_id = @Id", new { alice.Id }));
    }

    [Fact]
    public async Task A_user_may_have_five_holds_active_and_the_sixth_is_429_with_retry_after()
    {
        var alice = await fx.NewUserAsync();
        var cassette = (await Catalogue.AddAsync(fx, quantity: 10))["id"]!.GetValue<long>();
        var holds = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            holds.Add(await fx.Api.HoldIdAsync(alice.Token, HoldTestData.Cassette(cassette, 1, ttl: 120 + i)));
        }

        var refused = (await fx.Api.HoldAsync(alice.Token, HoldTestData.Cassette(cassette, 1))).IsProblem(HttpStatusCode.TooManyRequests, "too_many_holds");
        Assert.InRange(int.Parse(refused.Header("Retry-After")!, System.Globalization.CultureInfo.InvariantCulture), 100, 120);
        Assert.Equal(5, await Catalogue.StockAsync(fx, cassette));

        (await fx.Api.DeleteAsync($"/api/holds/{holds[0]}", alice.Token)).Is(HttpStatusCode.NoContent);
        (await fx.Api.HoldAsync(alice.Token, HoldTestData.Cassette(cassette, 1))).Is(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Twenty_parallel_holds_of_one_user_make_exactly_five_and_the_rest_are_429()
    {
        // Twenty cassettes: holds of one target would take turns on its row lock anyway; these meet only on the user's.
        var alice = await fx.NewUserAsync();
        var cassettes = new List<long>();
        for (var i = 0; i < 20; i++)
        {
            cassettes.Add((await Catalogue.AddAsync(fx, quantity: 1))["id"]!.GetValue<long>());
        }

        var replies = await Task.WhenAll(cassettes.Select(c => fx.Api.HoldAsync(alice.Token, HoldTestData.Cassette(c, 1))));

        Assert.Equal(5, replies.Count(r => r.Status == HttpStatusCode.Created));
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.Created), r => r.IsProblem(HttpStatusCode.TooManyRequests, "too_many_holds"));
        Assert.Equal(5L, await HoldTestData.ScalarAsync<long>(fx.Database.ConnectionString, "SELECT count(*) FROM holds WHERE user_id = @Id AND status = 'active'", new { alice.Id }));
        Assert.Equal(15, (await Task.WhenAll(cassettes.Select(c => Catalogue.StockAsync(fx, c)))).Sum());
    }

    [Fact]
    public async Task Members_of_other_kinds_sent_along_are_ignored()
    {
        var alice = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var body = new
        {
            kind = "stage_slot", stage, date = StageTestData.FutureDate(), start_time = "10:00", end_time = "11:00",
            training = 1, cassette = 1, quantity = 5000, table = 1, starts_at = "9999-12-31T23:59:59Z", duration = 480,
        };
        var held = (await fx.Api.HoldAsync(alice.Token, body)).Is(HttpStatusCode.Created);
        Assert.Null(held.Body!["training"]);
        Assert.Null(held.Body!["quantity"]);
        Assert.Null(held.Body!["starts_at"]);
    }

    [Fact]
    public async Task A_hold_is_extended_but_never_past_an_hour_after_it_was_made()
    {
        var alice = await fx.NewUserAsync();
        var cassette = (await Catalogue.AddAsync(fx, quantity: 1))["id"]!.GetValue<long>();
        var hold = (await fx.Api.HoldAsync(alice.Token, HoldTestData.Cassette(cassette, 1, ttl: 60))).Is(HttpStatusCode.Created);
        var created = hold.Member("created_at").GetValue<DateTimeOffset>();

        var extended = (await fx.Api.PostAsync($"/api/holds/{hold.Id}/extend", new { ttl_seconds = 1800 }, alice.Token)).Is(HttpStatusCode.OK);
        Assert.InRange(extended.Member("expires_at").GetValue<DateTimeOffset>() - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(1700), TimeSpan.FromSeconds(1801));
        var capped = (await fx.Api.PostAsync($"/api/holds/{hold.Id}/extend", new { ttl_seconds = 3600 }, alice.Token)).Is(HttpStatusCode.OK);
        Assert.Equal(created.AddHours(1), capped.Member("expires_at").GetValue<DateTimeOffset>());
        (await fx.Api.PostAsync($"/api/holds/{hold.Id}/extend", new { ttl_seconds = 5 }, alice.Token)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Holds_are_listed_newest_first_and_filtered_by_status()
    {
        var alice = await fx.NewUserAsync();
        var cassette = (await Catalogue.AddAsync(fx, quantity: 5))["id"]!.GetValue<long>();
        var first = await fx.Api.HoldIdAsync(alice.Token, HoldTestData.Cassette(cassette, 1));
        var second = await fx.Api.HoldIdAsync(alice.Token, HoldTestData.Cassette(cassette, 1));
        (await fx.Api.DeleteAsync($"/api/holds/{first}", alice.Token)).Is(HttpStatusCode.NoContent);

        var all = (await fx.Api.GetAsync("/api/holds", alice.Token)).Is(HttpStatusCode.OK);
        Assert.Equal([second, first], Schedule.Ids(all));
        Assert.Equal("2", all.Header("X-Total-Count"));
        Assert.Equal([second], Schedule.Ids(await fx.Api.GetAsync("/api/holds?status=active", alice.Token)));
        Assert.Equal([first], Schedule.Ids(await fx.Api.GetAsync("/api/holds?status=released&limit=1", alice.Token)));
        (await fx.Api.GetAsync("/api/holds?status=pending", alice.Token)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Fifty_clients_holding_the_last_cassette_leave_exactly_one_winner()
    {
        var users = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => fx.NewUserAsync()));
        var cassette = (await Catalogue.AddAsync(fx, quantity: 1))["id"]!.GetValue<long>();

        var replies = await Task.WhenAll(users.Select(u => fx.Api.HoldAsync(u.Token, HoldTestData.Cassette(cassette, 1))));

        Assert.Single(replies, r => r.Status == HttpStatusCode.Created);
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.Created), r => r.IsProblem(HttpStatusCode.Conflict, "out_of_stock"));
        Assert.Equal(0, await Catalogue.StockAsync(fx, cassette));
        Assert.Equal(1L, await HoldTestData.ScalarAsync<long>(fx.Database.ConnectionString,
            "SELECT count(*) FROM holds WHERE cassette_id = @cassette AND status = 'active'", new { cassette }));
    }

    [Fact]
    public async Task Fifty_clients_holding_one_stage_slot_leave_exactly_one_winner()
    {
        var users = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => fx.NewUserAsync()));
        var stage = await fx.NewStageIdAsync();
        var date = StageTestData.FutureDate();

        var replies = await Task.WhenAll(users.Select((u, i) => i % 2 == 0
            ? fx.Api.HoldAsync(u.Token, HoldTestData.StageSlot(stage, date, "12:00", "13:00"))
            : fx.BookAsync(u.Token, stage, date, "12:30", "13:30")));

        Assert.Single(replies, r => r.Status == HttpStatusCode.Created);
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.Created), r => r.IsProblem(HttpStatusCode.Conflict, "booking_conflict"));
        Assert.Equal(1L, await HoldTestData.ScalarAsync<long>(fx.Database.ConnectionString,
            "SELECT count(*) FROM bookings WHERE stage_id = @stage AND active", new { stage }));
    }

    [Fact]
    public async Task Holds_racing_enrolments_never_exceed_capacity_and_every_winner_confirms()
    {
        var users = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => fx.NewUserAsync()));
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(users), "2031-09-03", capacity: 5);

        var replies = await Task.WhenAll(users.Select((u, i) => i % 2 == 0
            ? fx.Api.HoldAsync(u.Token, HoldTestData.TrainingPlace(training))
            : fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, u.Token)));

        var winners = replies.Count(r => r.Status is HttpStatusCode.Created or HttpStatusCode.OK);
        Assert.Equal(5, winners);
        Assert.All(replies.Where(r => r.Status is not (HttpStatusCode.Created or HttpStatusCode.OK)), r => r.IsProblem(HttpStatusCode.Conflict, "training_full"));
        var (enrolled, held) = await CountsAsync(training);
        Assert.Equal(5, enrolled + held);

        var holders = users.Select((u, i) => (u, replies[i])).Where(x => x.Item2.Status == HttpStatusCode.Created).ToList();
        var confirms = await Task.WhenAll(holders.Select(x => fx.Api.ConfirmHoldAsync(x.u.Token, x.Item2.Id)));
        Assert.All(confirms, c => c.Is(HttpStatusCode.Created));
        Assert.Equal((5, 0), await CountsAsync(training));
    }

    private async Task<(int Enrolled, int Held)> CountsAsync(long training) =>
        (await HoldTestData.ScalarAsync<int>(fx.Database.ConnectionString, "SELECT enrolled FROM trainings WHERE id = @training", new { training }),
         await HoldTestData.ScalarAsync<int>(fx.Database.ConnectionString, "SELECT held FROM trainings WHERE id = @training", new { training }));
}

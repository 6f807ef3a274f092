using System.Net;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Waitlists.Service;

namespace Slices.Tests.Features.Waitlists;

// The stage slot waitlist routes on the shared host, whose workers make the offers.
public sealed class StageWaitlistTests(SlicesFixture fx)
{
    [Fact]
    public async Task Only_a_taken_bookable_slot_can_be_waited_for_and_only_once()
    {
        var s = await OfAsync(fx);
        var (alice, bob, carol) = (await s.NewUserAsync(), await s.NewUserAsync(), await s.NewUserAsync());
        var stage = await s.NewStageAsync();
        var date = FutureDate();
        (await s.BookAsync(alice, stage, date, "10:00", "12:00")).Is(HttpStatusCode.Created);

        (await s.JoinStageAsync(stage, bob, date, "12:00", "13:00")).IsProblem(HttpStatusCode.Conflict, "slot_available");
        (await s.JoinStageAsync(stage, bob, date, "08:00", "11:00")).IsProblem(HttpStatusCode.BadRequest, "outside_opening_hours");
        (await s.JoinStageAsync(stage, bob, "2020-01-01", "10:00", "11:00")).IsProblem(HttpStatusCode.BadRequest, "booking_in_past");
        (await s.JoinStageAsync(stage, bob, date, "11:00", "10:00")).IsProblem(HttpStatusCode.BadRequest, "invalid_time_range");
        (await s.JoinStageAsync(999999999, bob, date, "10:00", "11:00")).IsProblem(HttpStatusCode.NotFound, "not_found");
        var missing = (await s.Api.PostAsync($"/api/stages/{stage}/waitlist", new { date, start_time = "10:00" }, bob.Token))
            .IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(missing.Body!["errors"]!["end_time"]);

        var joined = (await s.JoinStageAsync(stage, bob, date, "11:00", "12:30")).Is(HttpStatusCode.Created);
        Assert.Equal($"/api/stages/{stage}/waitlist/{joined.Id}", joined.Header("Location"));
        Assert.Equal((stage, date, "11:00:00", "12:30:00", bob.Id, "waiting", 1), (
            joined.Body!["stage"]!.GetValue<long>(), joined.Body["date"]!.GetValue<string>(), joined.Body["start_time"]!.GetValue<string>(),
            joined.Body["end_time"]!.GetValue<string>(), joined.Body["user"]!.GetValue<long>(), joined.Body["status"]!.GetValue<string>(),
            joined.Body["position"]!.GetValue<int>()));
        Assert.Null(joined.Body["hold"]);
        (await s.JoinStageAsync(stage, bob, date, "11:00", "12:30")).IsProblem(HttpStatusCode.Conflict, "already_waiting");
        // finish_time, as a booking writes it, is end_time too.
        var carols = (await s.Api.PostAsync($"/api/stages/{stage}/waitlist", new { date, start_time = "10:00", finish_time = "11:00" }, carol.Token))
            .Is(HttpStatusCode.Created);
        Assert.Equal(("11:00:00", 2), (carols.Body!["end_time"]!.GetValue<string>(), carols.Body["position"]!.GetValue<int>()));
    }

    [Fact]
    public async Task A_joined_entry_is_at_its_location_for_its_user_and_an_admin_and_404_for_anyone_else_or_once_left()
    {
        var s = await OfAsync(fx);
        var (alice, bob, carol) = (await s.NewUserAsync(), await s.NewUserAsync(), await s.NewUserAsync());
        var (stage, other) = (await s.NewStageAsync(), await s.NewStageAsync());
        var date = FutureDate();
        (await s.BookAsync(alice, stage, date, "10:00", "12:00")).Is(HttpStatusCode.Created);
        (await s.JoinStageAsync(stage, carol, date, "10:00", "11:00")).Is(HttpStatusCode.Created);
        var joined = (await s.JoinStageAsync(stage, bob, date, "11:00", "12:00")).Is(HttpStatusCode.Created);
        var location = joined.Header("Location")!;

        var mine = (await s.Api.GetAsync(location, bob.Token)).Is(HttpStatusCode.OK);
        Assert.Equal((joined.Id, 2, "waiting", bob.Id), (mine.Id, mine.Body!["position"]!.GetValue<int>(), mine.Body["status"]!.GetValue<string>(), mine.Body["user"]!.GetValue<long>()));
        Assert.Equal(joined.Id, (await s.Api.GetAsync(location, s.Admin)).Is(HttpStatusCode.OK).Id);
        (await s.Api.GetAsync(location, carol.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await s.Api.GetAsync($"/api/stages/{other}/waitlist/{joined.Id}", bob.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await s.Api.GetAsync(location)).Is(HttpStatusCode.Unauthorized);

        (await s.Api.DeleteAsync(location, bob.Token)).Is(HttpStatusCode.NoContent);
        (await s.Api.GetAsync(location, bob.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task An_admin_sees_the_lines_in_order_others_their_own_entries_and_only_ones_own_entry_can_be_left()
    {
        var s = await OfAsync(fx);
        var (alice, bob, carol) = (await s.NewUserAsync(), await s.NewUserAsync(), await s.NewUserAsync());
        var stage = await s.NewStageAsync();
        var (day1, day2) = (FutureDate(), DateOnly.Parse(FutureDate()).AddDays(500).ToString("yyyy-MM-dd"));
        (await s.BookAsync(alice, stage, day1, "10:00", "12:00")).Is(HttpStatusCode.Created);
        (await s.BookAsync(alice, stage, day2, "10:00", "12:00")).Is(HttpStatusCode.Created);
        var bob1 = (await s.JoinStageAsync(stage, bob, day1, "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        var carol1 = (await s.JoinStageAsync(stage, carol, day1, "11:00", "12:00")).Is(HttpStatusCode.Created).Id;
        var bob2 = (await s.JoinStageAsync(stage, bob, day2, "10:00", "12:00")).Is(HttpStatusCode.Created).Id;
        var url = $"/api/stages/{stage}/waitlist";

        var all = (await s.Api.GetAsync(url, s.Admin)).Is(HttpStatusCode.OK);
        Assert.Equal([bob1, carol1, bob2], all.Array.Select(e => e!["id"]!.GetValue<long>()));
        Assert.Equal([1, 2, 1], Positions(all));
        Assert.Equal([bob1, bob2], (await s.Api.GetAsync(url, bob.Token)).Is(HttpStatusCode.OK).Array.Select(e => e!["id"]!.GetValue<long>()));
        Assert.Empty((await s.Api.GetAsync(url, alice.Token)).Is(HttpStatusCode.OK).Array);
        (await s.Api.GetAsync("/api/stages/999999999/waitlist", bob.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");

        (await s.Api.DeleteAsync($"{url}/{carol1}", bob.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await s.Api.DeleteAsync($"{url}/{carol1}", s.Admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await s.Api.DeleteAsync($"/api/stages/{await s.NewStageAsync()}/waitlist/{bob1}", bob.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await s.Api.DeleteAsync($"{url}/{bob1}", bob.Token)).Is(HttpStatusCode.NoContent);
        (await s.Api.DeleteAsync($"{url}/{bob1}", bob.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        var after = (await s.Api.GetAsync(url, s.Admin)).Is(HttpStatusCode.OK);
        Assert.Equal([carol1, bob2], after.Array.Select(e => e!["id"]!.GetValue<long>()));
        Assert.Equal([1, 1], Positions(after));
    }

    [Fact]
    public async Task A_freed_slot_goes_to_the_first_in_line_whose_slot_is_free_and_a_deactivated_booking_frees_the_next()
    {
        var s = await OfAsync(fx);
        var (alice, dave, bob, carol) = (await s.NewUserAsync(), await s.NewUserAsync(), await s.NewUserAsync(), await s.NewUserAsync());
        var stage = await s.NewStageAsync();
        var date = FutureDate();
        var alices = (await s.BookAsync(alice, stage, date, "10:00", "12:00")).Is(HttpStatusCode.Created).Id;
        (await s.BookAsync(dave, stage, date, "12:00", "13:00")).Is(HttpStatusCode.Created);
        // Bob is first, but his slot stays taken by Dave's booking when Alice's goes.
        var bobs = (await s.JoinStageAsync(stage, bob, date, "11:30", "12:30")).Is(HttpStatusCode.Created).Id;
        var carols = (await s.JoinStageAsync(stage, carol, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id;

        (await s.Api.DeleteAsync($"/api/bookings/{alices}", alice.Token)).Is(HttpStatusCode.NoContent);
        var carolsOffer = await s.UntilAsync(carols, "offered");
        var hold = (await s.Api.GetAsync($"/api/holds/{carolsOffer}", carol.Token)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal(("stage_slot", true, "10:00:00", "11:00:00"),
            (hold["kind"]!.GetValue<string>(), hold["offer"]!.GetValue<bool>(), hold["start_time"]!.GetValue<string>(), hold["end_time"]!.GetValue<string>()));
        Assert.Equal("waiting", (await s.EntryAsync(bobs)).Status);
        // The offer keeps the slot from everyone else.
        (await s.BookAsync(alice, stage, date, "10:30", "11:00")).IsProblem(HttpStatusCode.Conflict, "booking_conflict");

        (await s.Api.PatchAsync("/api/deactivate-bookings", new { stage }, s.Admin)).Is(HttpStatusCode.OK);
        var bobsOffer = await s.UntilAsync(bobs, "offered");
        var booked = (await s.Api.PostAsync($"/api/holds/{bobsOffer}/confirm", null, bob.Token)).Is(HttpStatusCode.Created);
        Assert.Equal(("11:30:00", "12:30:00", bob.Id), (booked.Body!["start_time"]!.GetValue<string>(), booked.Body["finish_time"]!.GetValue<string>(), booked.Body["user"]!.GetValue<long>()));
        Assert.Equal("accepted", (await s.EntryAsync(bobs)).Status);
        Assert.Equal("offered", (await s.EntryAsync(carols)).Status);
    }

    [Fact]
    public async Task A_deactivated_user_is_passed_over_and_a_slot_outside_the_stages_present_hours_keeps_waiting()
    {
        var s = await OfAsync(fx);
        var (alice, bob, carol, dave) = (await s.NewUserAsync(), await s.NewUserAsync(), await s.NewUserAsync(), await s.NewUserAsync());
        var stage = await s.NewStageAsync();
        var date = FutureDate();
        var alices = (await s.BookAsync(alice, stage, date, "10:00", "13:00")).Is(HttpStatusCode.Created).Id;
        var bobs = (await s.JoinStageAsync(stage, bob, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        var carols = (await s.JoinStageAsync(stage, carol, date, "12:00", "13:00")).Is(HttpStatusCode.Created).Id;
        var daves = (await s.JoinStageAsync(stage, dave, date, "11:00", "12:00")).Is(HttpStatusCode.Created).Id;
        (await s.Api.DeleteAsync($"/api/users/{bob.Username}", s.Admin)).Is(HttpStatusCode.NoContent);
        (await s.Api.PatchAsync($"/api/stages/{stage}", new { close_time = "12:30" }, s.Admin)).Is(HttpStatusCode.OK);

        (await s.Api.DeleteAsync($"/api/bookings/{alices}", alice.Token)).Is(HttpStatusCode.NoContent);
        await s.UntilAsync(daves, "offered");
        Assert.Equal("left", (await s.EntryAsync(bobs)).Status);
        Assert.Equal(("waiting", (long?)null), await s.EntryAsync(carols));
    }
}

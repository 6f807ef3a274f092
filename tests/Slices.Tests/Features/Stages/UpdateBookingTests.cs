using System.Net;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Stages.StageTestData;

namespace Slices.Tests.Features.Stages;

public sealed class UpdateBookingTests(SlicesFixture fx)
{
    [Fact]
    public async Task A_user_replaces_an_own_booking_with_PUT()
    {
        var user = await fx.NewUserAsync();
        var (stage, other) = (await fx.NewStageIdAsync(), await fx.NewStageIdAsync());
        var id = (await fx.BookAsync(user.Token, stage, FutureDate(), "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        var date = FutureDate();

        var put = (await fx.Api.PutAsync($"/api/bookings/{id}", new { stage = other, date, start_time = "14:00", finish_time = "15:30" }, user.Token)).Is(HttpStatusCode.OK);
        var b = put.Body!;
        Assert.Equal((id, user.Id, other, date), (b["id"]!.GetValue<long>(), b["user"]!.GetValue<long>(), b["stage"]!.GetValue<long>(), b["date"]!.GetValue<string>()));
        Assert.Equal(("14:00:00", "15:30:00", true), (b["start_time"]!.GetValue<string>(), b["finish_time"]!.GetValue<string>(), b["active"]!.GetValue<bool>()));
        Assert.NotNull(put.Header("ETag"));
    }

    [Fact]
    public async Task PATCH_with_null_active_is_400_and_leaves_a_deactivated_booking_inactive()
    {
        var user = await fx.NewUserAsync();
        var id = (await fx.BookAsync(user.Token, await fx.NewStageIdAsync(), FutureDate(), "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        (await fx.Api.PatchAsync($"/api/bookings/{id}", new { active = false }, user.Token)).Is(HttpStatusCode.OK);

        var reply = (await fx.Api.PatchAsync($"/api/bookings/{id}", """{"active":null}""", user.Token)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");

        Assert.NotNull(reply.Body!["errors"]!["active"]);
        Assert.False((await fx.Api.GetAsync($"/api/bookings/{id}", user.Token)).Is(HttpStatusCode.OK).Body!["active"]!.GetValue<bool>());
    }

    [Fact]
    public async Task PATCH_changes_only_the_members_sent_under_If_Match()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var date = FutureDate();
        var id = (await fx.BookAsync(user.Token, stage, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        var etag = (await fx.Api.GetAsync($"/api/bookings/{id}", user.Token)).Header("ETag")!;

        var patched = (await fx.Api.PatchAsync($"/api/bookings/{id}", new { finish_time = "12:00" }, user.Token, IfMatch(etag))).Is(HttpStatusCode.OK).Body!;
        Assert.Equal((date, "10:00:00", "12:00:00"), (patched["date"]!.GetValue<string>(), patched["start_time"]!.GetValue<string>(), patched["finish_time"]!.GetValue<string>()));
        (await fx.Api.PatchAsync($"/api/bookings/{id}", new { finish_time = "13:00" }, user.Token, IfMatch(etag))).IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        (await fx.Api.PutAsync($"/api/bookings/{id}", new { stage, date, start_time = "10:00", finish_time = "13:00" }, user.Token, IfMatch(etag)))
            .IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
    }

    [Fact]
    public async Task The_user_of_a_booking_is_read_only()
    {
        var (user, other) = (await fx.NewUserAsync(), await fx.NewUserAsync());
        var id = (await fx.BookAsync(user.Token, await fx.NewStageIdAsync(), FutureDate(), "10:00", "11:00")).Is(HttpStatusCode.Created).Id;

        var reply = (await fx.Api.PatchAsync($"/api/bookings/{id}", new { user = other.Id }, user.Token)).IsProblem(HttpStatusCode.BadRequest, "read_only_field");
        Assert.NotNull(reply.Body!["errors"]!["user"]);
        (await fx.Api.PatchAsync($"/api/bookings/{id}", new { user = other.Id }, await fx.AdminTokenAsync())).IsProblem(HttpStatusCode.BadRequest, "read_only_field");
        Assert.Equal(user.Id, (await fx.Api.GetAsync($"/api/bookings/{id}", user.Token)).Body!["user"]!.GetValue<long>());
    }

    [Fact]
    public async Task Moving_a_booking_onto_another_is_rejected_but_overlapping_its_own_old_times_is_not()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var date = FutureDate();
        var first = (await fx.BookAsync(user.Token, stage, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        var second = (await fx.BookAsync(user.Token, stage, date, "12:00", "13:00")).Is(HttpStatusCode.Created).Id;

        var clash = (await fx.Api.PatchAsync($"/api/bookings/{second}", new { start_time = "10:30", finish_time = "11:30" }, user.Token))
            .IsProblem(HttpStatusCode.Conflict, "booking_conflict");
        Assert.Contains($"booking {first}", clash.Body!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("12:00:00", (await fx.Api.GetAsync($"/api/bookings/{second}", user.Token)).Body!["start_time"]!.GetValue<string>());

        (await fx.Api.PatchAsync($"/api/bookings/{first}", new { start_time = "10:30", finish_time = "11:30" }, user.Token)).Is(HttpStatusCode.OK);
        (await fx.Api.PatchAsync($"/api/bookings/{second}", new { start_time = "11:30" }, user.Token)).Is(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Reactivating_a_booking_whose_slot_was_taken_meanwhile_is_a_409()
    {
        var (user, other) = (await fx.NewUserAsync(), await fx.NewUserAsync());
        var stage = await fx.NewStageIdAsync();
        var date = FutureDate();
        var id = (await fx.BookAsync(user.Token, stage, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        Assert.False((await fx.Api.PatchAsync($"/api/bookings/{id}", new { active = false }, user.Token)).Is(HttpStatusCode.OK).Body!["active"]!.GetValue<bool>());
        var taker = (await fx.BookAsync(other.Token, stage, date, "10:30", "11:30")).Is(HttpStatusCode.Created).Id;

        var reply = (await fx.Api.PatchAsync($"/api/bookings/{id}", new { active = true }, user.Token)).IsProblem(HttpStatusCode.Conflict, "booking_conflict");
        Assert.Contains($"booking {taker}", reply.Body!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.False((await fx.Api.GetAsync($"/api/bookings/{id}", user.Token)).Body!["active"]!.GetValue<bool>());
    }

    [Fact]
    public async Task An_update_is_held_to_every_rule_again()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync("09:00", "18:00");
        var id = (await fx.BookAsync(user.Token, stage, FutureDate(), "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        var url = $"/api/bookings/{id}";

        (await fx.Api.PatchAsync(url, new { finish_time = "09:30" }, user.Token)).IsProblem(HttpStatusCode.BadRequest, "invalid_time_range");
        (await fx.Api.PatchAsync(url, new { date = Yesterday() }, user.Token)).IsProblem(HttpStatusCode.BadRequest, "booking_in_past");
        (await fx.Api.PatchAsync(url, new { finish_time = "19:00" }, user.Token)).IsProblem(HttpStatusCode.BadRequest, "outside_opening_hours");
        (await fx.Api.PatchAsync(url, new { stage = long.MaxValue }, user.Token)).IsProblem(HttpStatusCode.BadRequest, "unknown_stage");
        var missing = (await fx.Api.PutAsync(url, new { stage }, user.Token)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(["date", "finish_time", "start_time"], missing.Body!["errors"]!.AsObject().Select(e => e.Key).Order());
    }

    [Fact]
    public async Task A_past_booking_can_be_deactivated_and_reactivated_with_PATCH()
    {
        var user = await fx.NewUserAsync();
        var id = await fx.PastBookingAsync(user.Id, await fx.NewStageIdAsync());
        var url = $"/api/bookings/{id}";

        var off = (await fx.Api.PatchAsync(url, new { active = false }, user.Token)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal((Yesterday(), "10:00:00", false), (off["date"]!.GetValue<string>(), off["start_time"]!.GetValue<string>(), off["active"]!.GetValue<bool>()));
        Assert.False((await fx.Api.GetAsync(url, user.Token)).Body!["active"]!.GetValue<bool>());
        Assert.True((await fx.Api.PatchAsync(url, new { active = true }, user.Token)).Is(HttpStatusCode.OK).Body!["active"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_past_booking_that_keeps_its_time_may_change_its_stage()
    {
        var user = await fx.NewUserAsync();
        var (stage, other) = (await fx.NewStageIdAsync(), await fx.NewStageIdAsync());
        var id = await fx.PastBookingAsync(user.Id, stage);

        var moved = (await fx.Api.PatchAsync($"/api/bookings/{id}", new { stage = other }, user.Token)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal((other, Yesterday(), "10:00:00", "11:00:00"),
            (moved["stage"]!.GetValue<long>(), moved["date"]!.GetValue<string>(), moved["start_time"]!.GetValue<string>(), moved["finish_time"]!.GetValue<string>()));
        (await fx.Api.PutAsync($"/api/bookings/{id}", new { stage, date = Yesterday(), start_time = "10:00", finish_time = "11:00", active = false }, user.Token))
            .Is(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_booking_moved_to_a_time_in_the_past_is_a_400_and_nothing_changes()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var past = await fx.PastBookingAsync(user.Id, stage);
        var future = (await fx.BookAsync(user.Token, stage, FutureDate(), "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        async Task<(string Body, string? ETag)> StoredAsync(long id)
        {
            var reply = (await fx.Api.GetAsync($"/api/bookings/{id}", user.Token)).Is(HttpStatusCode.OK);
            return (reply.Body!.ToJsonString(), reply.Header("ETag"));
        }

        var (pastBefore, futureBefore) = (await StoredAsync(past), await StoredAsync(future));
        var earlier = (await fx.Api.PatchAsync($"/api/bookings/{past}", new { start_time = "09:30", active = false }, user.Token))
            .IsProblem(HttpStatusCode.BadRequest, "booking_in_past");
        Assert.NotNull(earlier.Body!["errors"]!["date"]);
        (await fx.Api.PatchAsync($"/api/bookings/{future}", new { date = Yesterday() }, user.Token)).IsProblem(HttpStatusCode.BadRequest, "booking_in_past");
        Assert.Equal(pastBefore, await StoredAsync(past));
        Assert.Equal(futureBefore, await StoredAsync(future));

        // Only the new time must lie ahead: a past booking moved into the future is fine.
        var ahead = FutureDate();
        Assert.Equal(ahead, (await fx.Api.PatchAsync($"/api/bookings/{past}", new { date = ahead }, user.Token)).Is(HttpStatusCode.OK).Body!["date"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_booking_left_outside_shortened_opening_hours_can_be_deactivated_and_reactivated_but_not_moved_outside_them()
    {
        var user = await fx.NewUserAsync();
        var admin = await fx.AdminTokenAsync();
        var (stage, morning) = (await fx.NewStageIdAsync("09:00", "22:00"), await fx.NewStageIdAsync("09:00", "12:00"));
        var date = FutureDate();
        var id = (await fx.BookAsync(user.Token, stage, date, "20:00", "21:00")).Is(HttpStatusCode.Created).Id;
        var url = $"/api/bookings/{id}";
        (await fx.Api.PatchAsync($"/api/stages/{stage}", new { close_time = "18:00" }, admin)).Is(HttpStatusCode.OK);

        var off = (await fx.Api.PatchAsync(url, new { active = false }, user.Token)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal((stage, date, "20:00:00", "21:00:00", false),
            (off["stage"]!.GetValue<long>(), off["date"]!.GetValue<string>(), off["start_time"]!.GetValue<string>(), off["finish_time"]!.GetValue<string>(), off["active"]!.GetValue<bool>()));
        (await fx.Api.PutAsync(url, new { stage, date, start_time = "20:00", finish_time = "21:00", active = false }, admin)).Is(HttpStatusCode.OK);

        var stored = (await fx.Api.GetAsync(url, user.Token)).Is(HttpStatusCode.OK);
        var later = (await fx.Api.PatchAsync(url, new { start_time = "19:00", finish_time = "20:00" }, user.Token)).IsProblem(HttpStatusCode.BadRequest, "outside_opening_hours");
        Assert.NotNull(later.Body!["errors"]!["finish_time"]);
        (await fx.Api.PatchAsync(url, new { stage = morning }, user.Token)).IsProblem(HttpStatusCode.BadRequest, "outside_opening_hours");
        var now = (await fx.Api.GetAsync(url, user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal((stored.Body!.ToJsonString(), stored.Header("ETag")), (now.Body!.ToJsonString(), now.Header("ETag")));

        // Reactivating keeps stage and time too; only the overlap constraint applies to it again.
        Assert.True((await fx.Api.PatchAsync(url, new { active = true }, user.Token)).Is(HttpStatusCode.OK).Body!["active"]!.GetValue<bool>());
        Assert.Equal("17:00:00", (await fx.Api.PatchAsync(url, new { start_time = "16:00", finish_time = "17:00" }, user.Token)).Is(HttpStatusCode.OK).Body!["finish_time"]!.GetValue<string>());
    }
}

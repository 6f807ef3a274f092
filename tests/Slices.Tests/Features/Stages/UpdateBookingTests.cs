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
        var yesterday = DateOnly.FromDateTime(DateTime.Now).AddDays(-1).ToString("yyyy-MM-dd");

        (await fx.Api.PatchAsync(url, new { finish_time = "09:30" }, user.Token)).IsProblem(HttpStatusCode.BadRequest, "invalid_time_range");
        (await fx.Api.PatchAsync(url, new { date = yesterday }, user.Token)).IsProblem(HttpStatusCode.BadRequest, "booking_in_past");
        (await fx.Api.PatchAsync(url, new { finish_time = "19:00" }, user.Token)).IsProblem(HttpStatusCode.BadRequest, "outside_opening_hours");
        (await fx.Api.PatchAsync(url, new { stage = long.MaxValue }, user.Token)).IsProblem(HttpStatusCode.BadRequest, "unknown_stage");
        var missing = (await fx.Api.PutAsync(url, new { stage }, user.Token)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(["date", "finish_time", "start_time"], missing.Body!["errors"]!.AsObject().Select(e => e.Key).Order());
    }
}

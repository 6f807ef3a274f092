using System.Net;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Stages.StageTestData;

namespace Slices.Tests.Features.Stages;

// Whose bookings a caller sees and changes: one's own, or any for an admin; another user's is a 404.
public sealed class BookingAccessTests(SlicesFixture fx)
{
    [Fact]
    public async Task Another_users_booking_is_a_404_for_every_method()
    {
        var (owner, stranger) = (await fx.NewUserAsync(), await fx.NewUserAsync());
        var stage = await fx.NewStageIdAsync();
        var date = FutureDate();
        var id = (await fx.BookAsync(owner.Token, stage, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        var url = $"/api/bookings/{id}";

        (await fx.Api.GetAsync(url, stranger.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.PutAsync(url, new { stage, date, start_time = "12:00", finish_time = "13:00" }, stranger.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.PatchAsync(url, new { active = false }, stranger.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.DeleteAsync(url, stranger.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        Assert.DoesNotContain(id, (await fx.Api.GetAsync($"/api/bookings?stage={stage}", stranger.Token)).Ids());

        // Nothing changed: the owner still has it as booked.
        var mine = (await fx.Api.GetAsync(url, owner.Token)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal("10:00:00", mine["start_time"]!.GetValue<string>());
        Assert.True(mine["active"]!.GetValue<bool>());
    }

    [Fact]
    public async Task An_admin_sees_and_manages_every_booking_and_the_user_stays_its_owner()
    {
        var owner = await fx.NewUserAsync();
        var admin = await fx.AdminTokenAsync();
        var stage = await fx.NewStageIdAsync();
        var date = FutureDate();
        var id = (await fx.BookAsync(owner.Token, stage, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id;

        (await fx.Api.GetAsync($"/api/bookings/{id}", admin)).Is(HttpStatusCode.OK);
        Assert.Contains(id, (await fx.Api.GetAsync($"/api/bookings?stage={stage}", admin)).Ids());
        var moved = (await fx.Api.PatchAsync($"/api/bookings/{id}", new { start_time = "12:00", finish_time = "13:00" }, admin)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal(owner.Id, moved["user"]!.GetValue<long>());
        Assert.Equal("12:00:00", moved["start_time"]!.GetValue<string>());
        (await fx.Api.DeleteAsync($"/api/bookings/{id}", admin)).Is(HttpStatusCode.NoContent);
        (await fx.Api.GetAsync($"/api/bookings/{id}", owner.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task A_user_deletes_an_own_booking_and_its_slot_is_free_again()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var date = FutureDate();
        var id = (await fx.BookAsync(user.Token, stage, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id;

        (await fx.Api.DeleteAsync($"/api/bookings/{id}", user.Token, IfMatch("\"1\""))).IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        var etag = (await fx.Api.GetAsync($"/api/bookings/{id}", user.Token)).Header("ETag")!;
        (await fx.Api.DeleteAsync($"/api/bookings/{id}", user.Token, IfMatch(etag))).Is(HttpStatusCode.NoContent);
        (await fx.Api.GetAsync($"/api/bookings/{id}", user.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.BookAsync(user.Token, stage, date, "10:00", "11:00")).Is(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_booking_deleted_while_a_write_waits_for_it_is_a_404()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var date = FutureDate();
        var (delete, put, patch) = (
            (await fx.BookAsync(user.Token, stage, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id,
            (await fx.BookAsync(user.Token, stage, date, "12:00", "13:00")).Is(HttpStatusCode.Created).Id,
            (await fx.BookAsync(user.Token, stage, date, "14:00", "15:00")).Is(HttpStatusCode.Created).Id);

        (await fx.DeletedDuringAsync("bookings", delete, () => fx.Api.DeleteAsync($"/api/bookings/{delete}", user.Token))).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.DeletedDuringAsync("bookings", put, () => fx.Api.PutAsync($"/api/bookings/{put}", new { stage, date, start_time = "12:00", finish_time = "13:30" }, user.Token)))
            .IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.DeletedDuringAsync("bookings", patch, () => fx.Api.PatchAsync($"/api/bookings/{patch}", new { active = false }, user.Token)))
            .IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Deleting_another_users_booking_is_a_404_whatever_If_Match_says()
    {
        var (owner, stranger) = (await fx.NewUserAsync(), await fx.NewUserAsync());
        var id = (await fx.BookAsync(owner.Token, await fx.NewStageIdAsync(), FutureDate(), "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        var etag = (await fx.Api.GetAsync($"/api/bookings/{id}", owner.Token)).Header("ETag")!;

        (await fx.Api.DeleteAsync($"/api/bookings/{id}", stranger.Token, IfMatch("\"1\""))).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.DeleteAsync($"/api/bookings/{id}", stranger.Token, IfMatch(etag))).IsProblem(HttpStatusCode.NotFound, "not_found");
        Assert.Equal(etag, (await fx.Api.GetAsync($"/api/bookings/{id}", owner.Token)).Is(HttpStatusCode.OK).Header("ETag"));
    }

    [Fact]
    public async Task Anonymous_callers_get_401_on_every_booking_route()
    {
        (await fx.Api.GetAsync("/api/bookings")).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        (await fx.Api.GetAsync("/api/bookings/1")).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        (await fx.Api.PutAsync("/api/bookings/1", new { })).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        (await fx.Api.PatchAsync("/api/bookings/1", new { })).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        (await fx.Api.DeleteAsync("/api/bookings/1")).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
    }
}

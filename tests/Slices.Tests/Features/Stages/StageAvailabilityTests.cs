using System.Net;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Stages.StageTestData;

namespace Slices.Tests.Features.Stages;

public sealed class StageAvailabilityTests(SlicesFixture fx)
{
    [Fact]
    public async Task Free_windows_are_the_opening_hours_less_the_active_bookings()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync("09:00", "22:00");
        var date = FutureDate();
        (await fx.BookAsync(user.Token, stage, date, "10:00", "11:00")).Is(HttpStatusCode.Created);
        (await fx.BookAsync(user.Token, stage, date, "11:00", "12:30")).Is(HttpStatusCode.Created);
        (await fx.BookAsync(user.Token, stage, date, "15:00", "16:00")).Is(HttpStatusCode.Created);
        (await fx.BookAsync(user.Token, stage, date, "18:00", "19:00", active: false)).Is(HttpStatusCode.Created);
        (await fx.BookAsync(user.Token, stage, date, "21:00", "22:00")).Is(HttpStatusCode.Created);

        var other = await fx.NewUserAsync();
        var reply = (await fx.Api.GetAsync($"/api/stages/{stage}/availability?date={date}", other.Token)).Is(HttpStatusCode.OK);

        Assert.Equal(
            [("09:00:00", "10:00:00"), ("12:30:00", "15:00:00"), ("16:00:00", "21:00:00")],
            reply.Array.Select(w => (w!["start_time"]!.GetValue<string>(), w["finish_time"]!.GetValue<string>())));
    }

    [Fact]
    public async Task A_day_without_bookings_is_free_from_opening_to_closing()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync("08:00", "12:00");
        var reply = (await fx.Api.GetAsync($"/api/stages/{stage}/availability?date={FutureDate()}", user.Token)).Is(HttpStatusCode.OK);
        var window = Assert.Single(reply.Array)!;
        Assert.Equal("08:00:00", window["start_time"]!.GetValue<string>());
        Assert.Equal("12:00:00", window["finish_time"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_fully_booked_day_has_no_free_window()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync("08:00", "12:00");
        var date = FutureDate();
        (await fx.BookAsync(user.Token, stage, date, "08:00", "12:00")).Is(HttpStatusCode.Created);
        Assert.Empty((await fx.Api.GetAsync($"/api/stages/{stage}/availability?date={date}", user.Token)).Is(HttpStatusCode.OK).Array);
    }

    [Fact]
    public async Task The_date_is_required_and_the_stage_must_exist()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var missing = (await fx.Api.GetAsync($"/api/stages/{stage}/availability", user.Token)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(missing.Body!["errors"]!["date"]);
        var malformed = (await fx.Api.GetAsync($"/api/stages/{stage}/availability?date=tomorrow", user.Token)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(malformed.Body!["errors"]!["date"]);
        (await fx.Api.GetAsync($"/api/stages/{long.MaxValue}/availability?date={FutureDate()}", user.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.GetAsync($"/api/stages/{stage}/availability?date={FutureDate()}")).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
    }
}

using System.Net;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Stages.StageTestData;

namespace Slices.Tests.Features.Stages;

public sealed class BookStageTests(SlicesFixture fx)
{
    [Fact]
    public async Task A_user_books_a_stage_and_is_its_user_whatever_the_body_says()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var date = FutureDate();

        var reply = (await fx.Api.PostAsync("/api/bookings", new { stage, date, start_time = "10:00", finish_time = "11:30", user = 1 }, user.Token))
            .Is(HttpStatusCode.Created);
        var booking = reply.Body!;
        Assert.Equal($"/api/bookings/{reply.Id}", reply.Header("Location"));
        Assert.Equal(user.Id, booking["user"]!.GetValue<long>());
        Assert.Equal(stage, booking["stage"]!.GetValue<long>());
        Assert.Equal(date, booking["date"]!.GetValue<string>());
        Assert.Equal("10:00:00", booking["start_time"]!.GetValue<string>());
        Assert.Equal("11:30:00", booking["finish_time"]!.GetValue<string>());
        Assert.True(booking["active"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Start_must_be_before_finish()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var reply = (await fx.BookAsync(user.Token, stage, FutureDate(), "12:00", "12:00")).IsProblem(HttpStatusCode.BadRequest, "invalid_time_range");
        Assert.NotNull(reply.Body!["errors"]!["finish_time"]);
        (await fx.BookAsync(user.Token, stage, FutureDate(), "13:00", "12:00")).IsProblem(HttpStatusCode.BadRequest, "invalid_time_range");
    }

    [Fact]
    public async Task A_booking_in_the_past_is_refused()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync("00:00", "23:59");
        var reply = (await fx.BookAsync(user.Token, stage, Yesterday(), "10:00", "11:00")).IsProblem(HttpStatusCode.BadRequest, "booking_in_past");
        Assert.NotNull(reply.Body!["errors"]!["date"]);
    }

    [Fact]
    public async Task A_booking_must_lie_inside_the_opening_hours()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync("09:00", "18:00");
        var date = FutureDate();

        var early = (await fx.BookAsync(user.Token, stage, date, "08:30", "10:00")).IsProblem(HttpStatusCode.BadRequest, "outside_opening_hours");
        Assert.NotNull(early.Body!["errors"]!["start_time"]);
        Assert.Contains("09:00", early.Body["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        var late = (await fx.BookAsync(user.Token, stage, date, "17:00", "18:01")).IsProblem(HttpStatusCode.BadRequest, "outside_opening_hours");
        Assert.NotNull(late.Body!["errors"]!["finish_time"]);
        (await fx.BookAsync(user.Token, stage, date, "09:00", "18:00")).Is(HttpStatusCode.Created);
    }

    [Fact]
    public async Task An_unknown_stage_is_a_400()
    {
        var user = await fx.NewUserAsync();
        var reply = (await fx.BookAsync(user.Token, long.MaxValue, FutureDate(), "10:00", "11:00")).IsProblem(HttpStatusCode.BadRequest, "unknown_stage");
        Assert.NotNull(reply.Body!["errors"]!["stage"]);
    }

    [Fact]
    public async Task Missing_members_are_named()
    {
        var user = await fx.NewUserAsync();
        var reply = (await fx.Api.PostAsync("/api/bookings", new { }, user.Token)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(["date", "finish_time", "stage", "start_time"], reply.Body!["errors"]!.AsObject().Select(e => e.Key).Order());
        (await fx.Api.PostAsync("/api/bookings", """{"stage": 1, "date": "2030-01-01", "start_time": "25:00", "finish_time": "26:00"}""", user.Token))
            .IsProblem(HttpStatusCode.BadRequest, "malformed_json");
    }

    [Fact]
    public async Task Overlapping_booking_is_rejected_with_409_naming_the_booking_in_the_way()
    {
        var (first, second) = (await fx.NewUserAsync(), await fx.NewUserAsync());
        var stage = await fx.NewStageIdAsync();
        var date = FutureDate();
        var taken = (await fx.BookAsync(first.Token, stage, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id;

        foreach (var (start, finish) in new[] { ("10:30", "11:30"), ("09:30", "10:01"), ("10:00", "11:00"), ("09:00", "12:00"), ("10:15", "10:45") })
        {
            var reply = (await fx.BookAsync(second.Token, stage, date, start, finish)).IsProblem(HttpStatusCode.Conflict, "booking_conflict");
            Assert.Contains($"booking {taken}", reply.Body!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }

        // The same hours elsewhere, or on another day, are free.
        (await fx.BookAsync(second.Token, await fx.NewStageIdAsync(), date, "10:00", "11:00")).Is(HttpStatusCode.Created);
        (await fx.BookAsync(second.Token, stage, DateOnly.Parse(date, System.Globalization.CultureInfo.InvariantCulture).AddDays(1).ToString("yyyy-MM-dd"), "10:00", "11:00"))
            .Is(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Touching_bookings_do_not_overlap()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var date = FutureDate();
        (await fx.BookAsync(user.Token, stage, date, "10:00", "11:00")).Is(HttpStatusCode.Created);
        (await fx.BookAsync(user.Token, stage, date, "11:00", "12:00")).Is(HttpStatusCode.Created);
        (await fx.BookAsync(user.Token, stage, date, "09:00", "10:00")).Is(HttpStatusCode.Created);
    }

    [Fact]
    public async Task An_inactive_booking_does_not_hold_its_slot()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var date = FutureDate();
        var inactive = (await fx.BookAsync(user.Token, stage, date, "10:00", "11:00", active: false)).Is(HttpStatusCode.Created);
        Assert.False(inactive.Body!["active"]!.GetValue<bool>());
        (await fx.BookAsync(user.Token, stage, date, "10:00", "11:00")).Is(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Twenty_parallel_requests_for_one_slot_make_exactly_one_booking()
    {
        var stage = await fx.NewStageIdAsync();
        var date = FutureDate();
        var users = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => fx.NewUserAsync()));

        var replies = await Task.WhenAll(users.Select(u => fx.BookAsync(u.Token, stage, date, "14:00", "16:00")));

        Assert.Single(replies, r => r.Status == HttpStatusCode.Created);
        Assert.Equal(19, replies.Count(r => r.Status == HttpStatusCode.Conflict && r.ProblemCode == "booking_conflict"));
        var winner = replies.Single(r => r.Status == HttpStatusCode.Created).Id;
        var stored = (await fx.Api.GetAsync($"/api/bookings?stage={stage}", await fx.AdminTokenAsync())).Is(HttpStatusCode.OK);
        Assert.Equal([winner], stored.Ids());
    }

    [Fact]
    public async Task A_repeated_Idempotency_Key_replays_the_first_booking()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var body = new { stage, date = FutureDate(), start_time = "10:00", finish_time = "11:00" };
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };

        var first = (await fx.Api.PostAsync("/api/bookings", body, user.Token, key)).Is(HttpStatusCode.Created);
        var again = (await fx.Api.PostAsync("/api/bookings", body, user.Token, key)).Is(HttpStatusCode.Created);
        Assert.Equal(first.Id, again.Id);
        Assert.Equal("true", again.Header("Idempotent-Replayed"));
        Assert.Single((await fx.Api.GetAsync($"/api/bookings?stage={stage}", user.Token)).Array);
    }

    [Fact]
    public async Task Anonymous_callers_cannot_book()
    {
        var stage = await fx.NewStageIdAsync();
        (await fx.Api.PostAsync("/api/bookings", new { stage, date = FutureDate(), start_time = "10:00", finish_time = "11:00" }))
            .IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
    }
}

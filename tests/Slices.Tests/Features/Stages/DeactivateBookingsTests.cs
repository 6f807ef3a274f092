using System.Globalization;
using System.Net;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Stages.StageTestData;

namespace Slices.Tests.Features.Stages;

public sealed class DeactivateBookingsTests(SlicesFixture fx)
{
    [Fact]
    public async Task Admin_deactivates_the_active_bookings_of_one_stage_and_counts_them()
    {
        var admin = await fx.AdminTokenAsync();
        var user = await fx.NewUserAsync();
        var (stage, elsewhere) = (await fx.NewStageIdAsync(), await fx.NewStageIdAsync());
        var date = FutureDate();
        var mine = new[]
        {
            (await fx.BookAsync(user.Token, stage, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id,
            (await fx.BookAsync(user.Token, stage, date, "12:00", "13:00")).Is(HttpStatusCode.Created).Id,
        };
        (await fx.BookAsync(user.Token, stage, date, "14:00", "15:00", active: false)).Is(HttpStatusCode.Created);
        var untouched = (await fx.BookAsync(user.Token, elsewhere, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id;

        var reply = (await fx.Api.PatchAsync("/api/deactivate-bookings", new { stage }, admin)).Is(HttpStatusCode.OK);
        Assert.Equal(2, reply.Body!["deactivated"]!.GetValue<int>());

        Assert.Empty((await fx.Api.GetAsync($"/api/bookings?stage={stage}&active=true", user.Token)).Array);
        Assert.Equal(mine.Order(), (await fx.Api.GetAsync($"/api/bookings?stage={stage}&active=false", user.Token)).Ids().Where(mine.Contains).Order());
        Assert.True((await fx.Api.GetAsync($"/api/bookings/{untouched}", user.Token)).Body!["active"]!.GetValue<bool>());
        Assert.Equal(0, (await fx.Api.PatchAsync("/api/deactivate-bookings", new { stage }, admin)).Body!["deactivated"]!.GetValue<int>());

        // Their slots are free again.
        (await fx.BookAsync(user.Token, stage, date, "10:00", "11:00")).Is(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Date_to_limits_deactivation_to_bookings_on_or_before_it()
    {
        var admin = await fx.AdminTokenAsync();
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var d = DateOnly.Parse(FutureDate(), CultureInfo.InvariantCulture);
        string Day(int offset) => d.AddDays(offset).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var onTheDay = (await fx.BookAsync(user.Token, stage, Day(0), "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        var before = (await fx.BookAsync(user.Token, stage, Day(-1), "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        var after = (await fx.BookAsync(user.Token, stage, Day(1), "10:00", "11:00")).Is(HttpStatusCode.Created).Id;

        var reply = (await fx.Api.PatchAsync("/api/deactivate-bookings", new { stage, date_to = Day(0) }, admin)).Is(HttpStatusCode.OK);
        Assert.Equal(2, reply.Body!["deactivated"]!.GetValue<int>());
        Assert.Equal([after], (await fx.Api.GetAsync($"/api/bookings?stage={stage}&active=true", user.Token)).Ids());
        Assert.Equal([before, onTheDay], (await fx.Api.GetAsync($"/api/bookings?stage={stage}&active=false", user.Token)).Ids());
    }

    [Fact]
    public async Task Only_an_admin_may_deactivate_bookings()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var id = (await fx.BookAsync(user.Token, stage, FutureDate(), "10:00", "11:00")).Is(HttpStatusCode.Created).Id;

        (await fx.Api.PatchAsync("/api/deactivate-bookings", new { stage }, user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PatchAsync("/api/deactivate-bookings", new { stage })).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        Assert.True((await fx.Api.GetAsync($"/api/bookings/{id}", user.Token)).Body!["active"]!.GetValue<bool>());
    }
}

// Deactivating every booking would pull the slots from under the other booking tests, so this runs alone,
// after the parallel tests (DisableParallelization).
[CollectionDefinition(nameof(DeactivatesEveryBooking), DisableParallelization = true)]
public sealed class DeactivatesEveryBooking;

[Collection(nameof(DeactivatesEveryBooking))]
public sealed class DeactivateAllBookingsTests(SlicesFixture fx)
{
    [Fact]
    public async Task Without_a_body_every_active_booking_is_deactivated()
    {
        var user = await fx.NewUserAsync();
        var (one, two) = (await fx.NewStageIdAsync(), await fx.NewStageIdAsync());
        var date = FutureDate();
        var mine = new[]
        {
            (await fx.BookAsync(user.Token, one, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id,
            (await fx.BookAsync(user.Token, two, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id,
        };

        var reply = (await fx.Api.PatchAsync("/api/deactivate-bookings", null, await fx.AdminTokenAsync())).Is(HttpStatusCode.OK);

        Assert.True(reply.Body!["deactivated"]!.GetValue<int>() >= mine.Length);
        foreach (var id in mine)
        {
            Assert.False((await fx.Api.GetAsync($"/api/bookings/{id}", user.Token)).Body!["active"]!.GetValue<bool>());
        }
    }
}

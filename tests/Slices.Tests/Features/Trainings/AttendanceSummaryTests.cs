using System.Net;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Trainings;

public sealed class AttendanceSummaryTests(SlicesFixture fx)
{
    [Fact]
    public async Task Summary_counts_own_trainings_and_sums_the_prices_of_attended_ones_over_the_period()
    {
        var alice = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        var group = await fx.NewGroupAsync(alice, bob);
        var day1 = await fx.NewTrainingAsync(group, "2031-11-01", price: 10m);
        var day2 = await fx.NewTrainingAsync(group, "2031-11-02", price: 15.50m);
        var day3 = await fx.NewTrainingAsync(group, "2031-11-03", price: 20m);
        var day4 = await fx.NewTrainingAsync(group, "2031-11-04", price: 7m);
        var day5 = await fx.NewTrainingAsync(group, "2031-11-05", price: 30m);
        var later = await fx.NewTrainingAsync(group, "2031-12-01", price: 100m);
        await fx.MarkAsync(day1, alice, "attended");
        await fx.MarkAsync(day2, alice, "attended");
        await fx.MarkAsync(day3, alice, "missed");
        await fx.MarkAsync(day5, alice, "excused");
        await fx.MarkAsync(later, alice, "attended");
        // Enrolled but not marked yet: one of her trainings, counted in none of the statuses.
        (await fx.Api.PostAsync($"/api/trainings/{day4}/enroll", null, alice.Token)).Is(HttpStatusCode.OK);
        // Someone else's records change nothing for her.
        await fx.MarkAsync(day1, bob, "attended");
        await fx.MarkAsync(day3, bob, "attended");

        var november = (await fx.Api.GetAsync("/api/attendances/me/summary?date_from=2031-11-01&date_to=2031-11-05", alice.Token)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal(5, november["trainings"]!.GetValue<long>());
        Assert.Equal(2, november["attended"]!.GetValue<long>());
        Assert.Equal(1, november["missed"]!.GetValue<long>());
        Assert.Equal(1, november["excused"]!.GetValue<long>());
        Assert.Equal(25.50m, november["total_price"]!.GetValue<decimal>());

        var ends = (await fx.Api.GetAsync("/api/attendances/me/summary?date_from=2031-11-02&date_to=2031-11-03", alice.Token)).Body!;
        Assert.Equal(2, ends["trainings"]!.GetValue<long>());
        Assert.Equal(15.50m, ends["total_price"]!.GetValue<decimal>());

        var all = (await fx.Api.GetAsync("/api/attendances/me/summary", alice.Token)).Body!;
        Assert.Equal(6, all["trainings"]!.GetValue<long>());
        Assert.Equal(3, all["attended"]!.GetValue<long>());
        Assert.Equal(125.50m, all["total_price"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Summary_of_a_user_without_trainings_is_all_zeros()
    {
        var nobody = await fx.NewUserAsync();
        var body = (await fx.Api.GetAsync("/api/attendances/me/summary", nobody.Token)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal(0, body["trainings"]!.GetValue<long>());
        Assert.Equal(0, body["attended"]!.GetValue<long>());
        Assert.Equal(0, body["missed"]!.GetValue<long>());
        Assert.Equal(0, body["excused"]!.GetValue<long>());
        Assert.Equal(0m, body["total_price"]!.GetValue<decimal>());
        (await fx.Api.GetAsync("/api/attendances/me/summary")).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
    }
}

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

    // Guard for the summary's query (it starts from the user's enrolments and records): several users in two groups,
    // trainings with an enrolment and a record, a record without an enrolment, an enrolment given up again.
    [Fact]
    public async Task Summary_counts_each_training_of_the_user_once_among_other_users_and_groups()
    {
        var (alice, bob, carol) = (await fx.NewUserAsync(), await fx.NewUserAsync(), await fx.NewUserAsync());
        var first = await fx.NewGroupAsync(alice, bob, carol);
        var second = await fx.NewGroupAsync(alice, bob);
        var d1 = await fx.NewTrainingAsync(first, "2032-03-01", price: 10m);
        var d2 = await fx.NewTrainingAsync(first, "2032-03-02", price: 20m);
        var d3 = await fx.NewTrainingAsync(first, "2032-03-03", price: 30m);
        var e1 = await fx.NewTrainingAsync(second, "2032-03-01", price: 40m);
        var e2 = await fx.NewTrainingAsync(second, "2032-03-04", price: 50m);
        var april = await fx.NewTrainingAsync(first, "2032-04-01", price: 60m);
        foreach (var (training, user) in new[] { (d1, alice), (d2, alice), (e1, alice), (d1, bob), (e2, bob), (d3, carol) })
        {
            (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, user.Token)).Is(HttpStatusCode.OK);
        }

        (await fx.Api.DeleteAsync($"/api/trainings/{d3}/enroll", carol.Token)).Is(HttpStatusCode.NoContent);
        await fx.MarkAsync(d1, alice, "attended");
        await fx.MarkAsync(d3, alice, "missed");
        await fx.MarkAsync(e1, alice, "attended");
        await fx.MarkAsync(april, alice, "excused");
        await fx.MarkAsync(d1, bob, "missed");
        await fx.MarkAsync(d2, bob, "attended");
        await fx.MarkAsync(e2, bob, "attended");

        await AssertSummaryAsync(alice, "?date_from=2032-03-01&date_to=2032-03-31", trainings: 4, attended: 2, missed: 1, excused: 0, totalPrice: 50m);
        await AssertSummaryAsync(alice, "?date_from=2032-03-01", trainings: 5, attended: 2, missed: 1, excused: 1, totalPrice: 50m);
        await AssertSummaryAsync(alice, "?date_from=2032-03-02&date_to=2032-03-03", trainings: 2, attended: 0, missed: 1, excused: 0, totalPrice: 0m);
        await AssertSummaryAsync(bob, "?date_to=2032-03-31", trainings: 3, attended: 2, missed: 1, excused: 0, totalPrice: 70m);
        await AssertSummaryAsync(bob, "?date_from=2032-03-02&date_to=2032-03-03", trainings: 1, attended: 1, missed: 0, excused: 0, totalPrice: 20m);
        await AssertSummaryAsync(carol, string.Empty, trainings: 0, attended: 0, missed: 0, excused: 0, totalPrice: 0m);
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

    private async Task AssertSummaryAsync(TestUser user, string period, long trainings, long attended, long missed, long excused, decimal totalPrice)
    {
        var body = (await fx.Api.GetAsync($"/api/attendances/me/summary{period}", user.Token)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal(
            (trainings, attended, missed, excused, totalPrice),
            (body["trainings"]!.GetValue<long>(), body["attended"]!.GetValue<long>(), body["missed"]!.GetValue<long>(),
                body["excused"]!.GetValue<long>(), body["total_price"]!.GetValue<decimal>()));
    }
}

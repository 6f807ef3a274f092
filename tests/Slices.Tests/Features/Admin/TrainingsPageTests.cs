using System.Globalization;
using System.Net;
using Slices.Tests.Features.Trainings;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Admin;

public sealed class TrainingsPageTests(SlicesFixture fx)
{
    // A Monday far in the future, rarely the same for two tests, so the week holds only this test's trainings.
    internal static DateOnly FarMonday()
    {
        var day = new DateOnly(2200, 1, 6).AddDays(7 * Random.Shared.Next(0, 50_000)); // 2200-01-06 is a Monday
        Assert.Equal(DayOfWeek.Monday, day.DayOfWeek);
        return day;
    }

    internal static string Day(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_week_view_shows_each_groups_trainings_with_enrolment_counts()
    {
        var (alice, bob) = (await fx.NewUserAsync(), await fx.NewUserAsync());
        var (morning, evening) = (await fx.NewGroupAsync(alice, bob), await fx.NewGroupAsync());
        var monday = FarMonday();
        var limited = await fx.NewTrainingAsync(morning, Day(monday.AddDays(2)), capacity: 2);
        await fx.NewTrainingAsync(evening, Day(monday.AddDays(6)));
        await fx.NewTrainingAsync(evening, Day(monday.AddDays(7))); // next week: not shown
        (await fx.Api.PostAsync($"/api/trainings/{limited}/enroll", null, alice.Token)).Is(HttpStatusCode.OK);
        (await fx.Api.PostAsync($"/api/trainings/{limited}/enroll", null, bob.Token)).Is(HttpStatusCode.OK);
        using var panel = await PanelClient.SignedInAsync(fx);

        // Any day of the week shows that week, Monday to Sunday.
        var page = (await panel.GetAsync($"/admin/trainings?week={Day(monday.AddDays(3))}")).Is(HttpStatusCode.OK);

        Assert.Contains($"value=\"{Day(monday)}\"", page.Html, StringComparison.Ordinal);
        var rows = page.Text.Split("<tbody>")[1].Split("<tr>").Skip(1).ToList();
        Assert.Equal(2, rows.Count);
        var morningName = await GroupNameAsync(morning);
        var morningRow = Assert.Single(rows, r => r.Contains(morningName, StringComparison.Ordinal));
        Assert.Contains("2 / 2 enrolled · full", morningRow, StringComparison.Ordinal);
        Assert.Contains("18:00–19:30", morningRow, StringComparison.Ordinal);
        var eveningName = await GroupNameAsync(evening);
        var eveningRow = Assert.Single(rows, r => r.Contains(eveningName, StringComparison.Ordinal));
        Assert.Single(eveningRow.Split("class=\"training").Skip(1));
        Assert.Contains("0 enrolled", eveningRow, StringComparison.Ordinal);
        Assert.Contains($"href=\"/admin/trainings?week={Day(monday.AddDays(7))}\"", page.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_group_filter_keeps_one_group()
    {
        var (one, two) = (await fx.NewGroupAsync(), await fx.NewGroupAsync());
        var monday = FarMonday();
        await fx.NewTrainingAsync(one, Day(monday));
        await fx.NewTrainingAsync(two, Day(monday));
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync($"/admin/trainings?week={Day(monday)}&group={one}")).Is(HttpStatusCode.OK);

        Assert.Single(page.Html.Split("<tbody>")[1].Split("<tr>").Skip(1));
        Assert.Contains($"<option value=\"{one}\" selected>", page.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_empty_week_says_so()
    {
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync($"/admin/trainings?week={Day(FarMonday())}")).Is(HttpStatusCode.OK);

        Assert.Contains("No trainings this week.", page.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_malformed_week_is_a_400_naming_the_field()
    {
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync("/admin/trainings?week=next-week")).Is(HttpStatusCode.BadRequest);

        Assert.Contains("Week of must be a date (yyyy-mm-dd).", page.Html, StringComparison.Ordinal);
    }

    private async Task<string> GroupNameAsync(long id) =>
        (await fx.Api.GetAsync($"/api/groups/{id}", await fx.AdminTokenAsync())).Is(HttpStatusCode.OK).Body!["name"]!.GetValue<string>();
}

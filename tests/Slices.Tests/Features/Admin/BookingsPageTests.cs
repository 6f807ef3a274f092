using System.Net;
using Slices.Tests.Features.Stages;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Stages.StageTestData;

namespace Slices.Tests.Features.Admin;

public sealed class BookingsPageTests(SlicesFixture fx)
{
    [Fact]
    public async Task Bookings_are_listed_with_the_stage_and_state_filters()
    {
        var user = await fx.NewUserAsync();
        var (stage, elsewhere) = (await fx.NewStageIdAsync(), await fx.NewStageIdAsync());
        var date = FutureDate();
        var active = (await fx.BookAsync(user.Token, stage, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        var inactive = (await fx.BookAsync(user.Token, stage, date, "12:00", "13:00", active: false)).Is(HttpStatusCode.Created).Id;
        var other = (await fx.BookAsync(user.Token, elsewhere, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        using var panel = await PanelClient.SignedInAsync(fx);

        var all = (await panel.GetAsync($"/admin/bookings?stage={stage}")).Is(HttpStatusCode.OK);
        var onlyActive = (await panel.GetAsync($"/admin/bookings?stage={stage}&active=true&date_from={date}&date_to={date}")).Is(HttpStatusCode.OK);

        Assert.Equal([active, inactive], BookingIds(all));
        Assert.Contains($"user #{user.Id}", all.Html, StringComparison.Ordinal);
        Assert.Contains("<tr class=\"inactive\">", all.Html, StringComparison.Ordinal);
        Assert.Equal([active], BookingIds(onlyActive));
    }

    [Fact]
    public async Task Malformed_filters_are_a_400_naming_the_field()
    {
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync("/admin/bookings?date_from=tomorrow&stage=first")).Is(HttpStatusCode.BadRequest);

        Assert.Contains("Stage must be a number.", page.Html, StringComparison.Ordinal);
        Assert.Contains("From must be a date (yyyy-mm-dd).", page.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deactivating_asks_for_confirmation_first_then_reports_the_count()
    {
        var user = await fx.NewUserAsync();
        var (stage, elsewhere) = (await fx.NewStageIdAsync(), await fx.NewStageIdAsync());
        var date = FutureDate();
        var mine = new[]
        {
            (await fx.BookAsync(user.Token, stage, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id,
            (await fx.BookAsync(user.Token, stage, date, "12:00", "13:00")).Is(HttpStatusCode.Created).Id,
            (await fx.BookAsync(user.Token, stage, date, "14:00", "15:00")).Is(HttpStatusCode.Created).Id,
        };
        var untouched = (await fx.BookAsync(user.Token, elsewhere, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        using var panel = await PanelClient.SignedInAsync(fx);
        var list = (await panel.GetAsync("/admin/bookings")).Is(HttpStatusCode.OK);
        var fields = new Dictionary<string, string> { ["deactivate_stage"] = $"{stage}", ["deactivate_date_to"] = "" };

        var confirm = (await panel.PostAsync("/admin/bookings", "deactivate", list.Token, fields)).Is(HttpStatusCode.OK);

        Assert.Contains("This deactivates <strong>3 bookings</strong>", confirm.Text, StringComparison.Ordinal);
        Assert.Contains("name=\"deactivate_confirmed\" value=\"true\"", confirm.Html, StringComparison.Ordinal);
        Assert.Contains($"name=\"deactivate_stage\" value=\"{stage}\"", confirm.Html, StringComparison.Ordinal);
        foreach (var id in mine)
        {
            Assert.True(await IsActive(id, user)); // nothing happens before the confirm step
        }

        var done = (await panel.PostAsync("/admin/bookings", "deactivate", confirm.Token, Confirmed(fields))).Is(HttpStatusCode.OK);

        Assert.Contains("Deactivated 3 bookings.", done.Text, StringComparison.Ordinal);
        foreach (var id in mine)
        {
            Assert.False(await IsActive(id, user));
        }

        Assert.True(await IsActive(untouched, user));
        var again = (await panel.PostAsync("/admin/bookings", "deactivate", done.Token, fields)).Is(HttpStatusCode.OK);
        Assert.Contains("Nothing to deactivate", again.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("deactivate_confirmed", again.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Confirming_without_the_antiforgery_token_is_refused_and_changes_nothing()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var booking = (await fx.BookAsync(user.Token, stage, FutureDate(), "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        using var panel = await PanelClient.SignedInAsync(fx);

        (await panel.PostAsync("/admin/bookings", "deactivate", token: null, Confirmed(new() { ["deactivate_stage"] = $"{stage}" }))).Is(HttpStatusCode.BadRequest);

        Assert.True(await IsActive(booking, user));
    }

    [Fact]
    public async Task The_deactivation_cannot_be_posted_without_signing_in()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var booking = (await fx.BookAsync(user.Token, stage, FutureDate(), "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        using var anonymous = new PanelClient(fx.Host);
        var token = (await anonymous.GetAsync("/admin/signin")).Token;

        (await anonymous.PostAsync("/admin/bookings", "deactivate", token, Confirmed(new() { ["deactivate_stage"] = $"{stage}" }))).IsSentToSignIn();

        Assert.True(await IsActive(booking, user));
    }

    internal static Dictionary<string, string> Confirmed(Dictionary<string, string> fields) => new(fields) { ["deactivate_confirmed"] = "true" };

    private async Task<bool> IsActive(long booking, TestUser owner) =>
        (await fx.Api.GetAsync($"/api/bookings/{booking}", owner.Token)).Is(HttpStatusCode.OK).Body!["active"]!.GetValue<bool>();

    internal static long[] BookingIds(PanelPage page) =>
        System.Text.RegularExpressions.Regex.Matches(page.Html.Split("<tbody>")[1], "<th scope=\"row\">#([0-9]+)</th>")
            .Select(m => long.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
}

[Collection(nameof(DeactivatesEveryBooking))]
public sealed class DeactivateEveryBookingPageTests(SlicesFixture fx)
{
    [Fact]
    public async Task Without_a_stage_or_date_the_confirm_step_covers_every_active_booking()
    {
        var user = await fx.NewUserAsync();
        var (one, two) = (await fx.NewStageIdAsync(), await fx.NewStageIdAsync());
        var date = FutureDate();
        var mine = new[]
        {
            (await fx.BookAsync(user.Token, one, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id,
            (await fx.BookAsync(user.Token, two, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id,
        };
        using var panel = await PanelClient.SignedInAsync(fx);
        var fields = new Dictionary<string, string> { ["deactivate_stage"] = "", ["deactivate_date_to"] = "" };

        var confirm = (await panel.PostAsync("/admin/bookings", "deactivate", (await panel.GetAsync("/admin/bookings")).Token, fields)).Is(HttpStatusCode.OK);
        Assert.Contains("active bookings of any stage, whatever their date", confirm.Text, StringComparison.Ordinal);
        var done = (await panel.PostAsync("/admin/bookings", "deactivate", confirm.Token, BookingsPageTests.Confirmed(fields))).Is(HttpStatusCode.OK);

        Assert.Matches("Deactivated [0-9]+ bookings\\.", done.Text);
        foreach (var id in mine)
        {
            Assert.False((await fx.Api.GetAsync($"/api/bookings/{id}", user.Token)).Body!["active"]!.GetValue<bool>());
        }
    }
}

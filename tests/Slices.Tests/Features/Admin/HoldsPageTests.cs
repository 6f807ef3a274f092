using System.Net;
using Slices.Tests.Features.Holds;
using Slices.Tests.Features.Trainings;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Admin.TrainingsPageTests;
using static Slices.Tests.Features.Stages.StageTestData;

namespace Slices.Tests.Features.Admin;

// Holds are made through the API; waitlist entries are written into waitlist_entries directly, as the waitlist routes would.
public sealed class HoldsPageTests(SlicesFixture fx)
{
    [Fact]
    public async Task A_training_shows_its_places_its_active_holds_and_its_line_in_order()
    {
        var t = await HeldAndWaitedForAsync();
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync($"/admin/holds?date_from={Day(t.Date)}&date_to={Day(t.Date)}")).Is(HttpStatusCode.OK);

        var section = Section(page, $"training-{t.Training}");
        Assert.Contains($"{Day(t.Date)} 18:00–19:30 · {t.GroupName}", section, StringComparison.Ordinal);
        Assert.Contains("capacity 3 · 1 enrolled · 2 held · 0 free · 2 waiting", section, StringComparison.Ordinal);
        var holds = Rows(section, "Active holds");
        Assert.Equal(2, holds.Count);
        Assert.Contains(holds, r => r.Contains($">{t.Holder.Username}</a>", StringComparison.Ordinal) && r.Contains("the user", StringComparison.Ordinal)
            && r.Contains("1 place", StringComparison.Ordinal) && r.Contains("(in 10 min)", StringComparison.Ordinal));
        Assert.Contains(holds, r => r.Contains($">{t.Offered.Username}</a>", StringComparison.Ordinal) && r.Contains("waitlist offer", StringComparison.Ordinal));
        var line = Rows(section, "Waitlist");
        Assert.Equal(3, line.Count);
        Assert.Contains($"<th scope=\"row\">1</th>", line[0], StringComparison.Ordinal);
        Assert.Contains(t.Offered.Username, line[0], StringComparison.Ordinal);
        Assert.Contains($"offered (hold #{t.OfferHold})", line[0], StringComparison.Ordinal);
        Assert.Contains($"<th scope=\"row\">2</th>", line[1], StringComparison.Ordinal);
        Assert.Contains(t.First.Username, line[1], StringComparison.Ordinal);
        Assert.Contains("waiting", line[1], StringComparison.Ordinal);
        Assert.Contains($"<th scope=\"row\">3</th>", line[2], StringComparison.Ordinal);
        Assert.Contains(t.Second.Username, line[2], StringComparison.Ordinal);
        Assert.DoesNotContain(t.Left.Username, page.Html, StringComparison.Ordinal);
        // Neither an expired hold (its job not run yet) nor a released one keeps a place: that training has no section.
        Assert.DoesNotContain($"training-{t.NothingKept}", page.Html, StringComparison.Ordinal);
        Assert.DoesNotContain(t.Expired.Username, page.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_stage_day_shows_its_held_slots_and_the_slots_people_wait_for()
    {
        var (alice, bob, carol, dave) = (await fx.NewUserAsync(), await fx.NewUserAsync(), await fx.NewUserAsync(), await fx.NewUserAsync());
        var stage = await fx.NewStageAsync();
        var (stageId, stageName) = (stage["id"]!.GetValue<long>(), stage["name"]!.GetValue<string>());
        var date = FutureDate();
        await fx.Api.HoldIdAsync(alice.Token, HoldTestData.StageSlot(stageId, date, "10:00", "11:00"));
        var released = await fx.Api.HoldIdAsync(carol.Token, HoldTestData.StageSlot(stageId, date, "12:00", "13:00"));
        (await fx.Api.DeleteAsync($"/api/holds/{released}", carol.Token)).Is(HttpStatusCode.NoContent);
        await WaitForSlotAsync(bob, stageId, date, "10:30", "11:30");
        await WaitForSlotAsync(dave, stageId, date, "10:00", "11:00", "lapsed");
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync($"/admin/holds?date_from={date}&date_to={date}")).Is(HttpStatusCode.OK);

        var section = Section(page, $"stage-{stageId}-{date}");
        Assert.Contains($"{stageName} · {date}", section, StringComparison.Ordinal);
        var hold = Assert.Single(Rows(section, "Active holds"));
        Assert.Contains($">{alice.Username}</a>", hold, StringComparison.Ordinal);
        Assert.Contains("10:00–11:00", hold, StringComparison.Ordinal);
        var entry = Assert.Single(Rows(section, "Waitlist"));
        Assert.Contains($">{bob.Username}</a>", entry, StringComparison.Ordinal);
        Assert.Contains("10:30–11:30", entry, StringComparison.Ordinal);
        Assert.DoesNotContain(carol.Username, section, StringComparison.Ordinal);
        Assert.DoesNotContain(dave.Username, section, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_trainings_week_view_counts_held_places_and_people_waiting()
    {
        var t = await HeldAndWaitedForAsync();
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync($"/admin/trainings?week={Day(t.Date)}")).Is(HttpStatusCode.OK);

        var row = Assert.Single(page.Text.Split("<tbody>")[1].Split("<tr>").Skip(1));
        var cards = row.Split("class=\"training").Skip(1).ToList();
        Assert.Equal(2, cards.Count);
        Assert.Contains($"<a class=\"queue\" href=\"/admin/holds?date_from={Day(t.Date)}&date_to={Day(t.Date)}\">2 held · 2 waiting</a>", cards[0], StringComparison.Ordinal);
        Assert.DoesNotContain("class=\"queue\"", cards[1], StringComparison.Ordinal); // nothing held or waited for
    }

    [Fact]
    public async Task By_default_the_page_starts_today()
    {
        var (alice, bob) = (await fx.NewUserAsync(), await fx.NewUserAsync());
        var yesterday = DateOnly.FromDateTime(DateTime.Now).AddDays(-1);
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(alice), Day(yesterday));
        await WaitForTrainingAsync(bob, training);
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync("/admin/holds")).Is(HttpStatusCode.OK);
        var then = (await panel.GetAsync($"/admin/holds?date_from={Day(yesterday)}&date_to={Day(yesterday)}")).Is(HttpStatusCode.OK);

        Assert.Contains($"id=\"date_from\" name=\"date_from\" type=\"date\" value=\"{Day(yesterday.AddDays(1))}\"", page.Html, StringComparison.Ordinal);
        Assert.DoesNotContain($"training-{training}", page.Html, StringComparison.Ordinal);
        Assert.Contains(bob.Username, Section(then, $"training-{training}"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Nothing_held_or_waited_for_says_so()
    {
        using var panel = await PanelClient.SignedInAsync(fx);
        var day = Day(FarMonday().AddDays(-1));

        var page = (await panel.GetAsync($"/admin/holds?date_from={day}&date_to={day}")).Is(HttpStatusCode.OK);

        Assert.Contains("No training in these dates has a place held or anyone waiting.", page.Html, StringComparison.Ordinal);
        Assert.Contains("No stage in these dates has a slot held or anyone waiting.", page.Html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("date_from=soon", "From must be a date (yyyy-mm-dd).")]
    [InlineData("date_from=2200-01-02&date_to=2200-01-01", "date_to must not be before date_from.")]
    public async Task Bad_dates_are_a_400_saying_what_is_wrong(string query, string message)
    {
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync($"/admin/holds?{query}")).Is(HttpStatusCode.BadRequest);

        Assert.Contains(message, page.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("<section", page.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_a_signed_in_admin_sees_the_page()
    {
        var t = await HeldAndWaitedForAsync();
        var url = $"/admin/holds?date_from={Day(t.Date)}&date_to={Day(t.Date)}";
        using var anonymous = new PanelClient(fx.Host);

        (await anonymous.GetAsync(url)).IsSentToSignIn();
        (await anonymous.GetAsync(url, t.Holder.Token)).IsSentToSignIn();
        (await anonymous.SignInAsync(t.Holder.Username, t.Holder.Password)).Is(HttpStatusCode.Forbidden);
        (await anonymous.GetAsync(url)).IsSentToSignIn();
    }

    // A training of capacity 3 on a far day: one enrolled, one place held by its user and one by a waitlist offer, two
    // people waiting after the one offered, one who left the line; and, the same day, a training whose holds keep
    // nothing (one past expires_at, one released).
    internal async Task<HeldAndWaitedFor> HeldAndWaitedForAsync()
    {
        var users = new TestUser[8];
        for (var i = 0; i < users.Length; i++)
        {
            users[i] = await fx.NewUserAsync();
        }

        var (enrolled, holder, offered, first, second, left, expired, releasing) = (users[0], users[1], users[2], users[3], users[4], users[5], users[6], users[7]);
        var group = await fx.NewGroupAsync(users);
        var groupName = (await fx.Api.GetAsync($"/api/groups/{group}", await fx.AdminTokenAsync())).Is(HttpStatusCode.OK).Body!["name"]!.GetValue<string>();
        var date = FarMonday().AddDays(2);
        var training = await fx.NewTrainingAsync(group, Day(date), capacity: 3);
        var nothingKept = await fx.NewTrainingAsync(group, Day(date));
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, enrolled.Token)).Is(HttpStatusCode.OK);
        await fx.Api.HoldIdAsync(holder.Token, HoldTestData.TrainingPlace(training));
        var offer = await fx.Api.HoldIdAsync(offered.Token, HoldTestData.TrainingPlace(training));
        await SqlAsync("UPDATE holds SET offer = true WHERE id = @offer RETURNING id", new { offer });
        var released = await fx.Api.HoldIdAsync(releasing.Token, HoldTestData.TrainingPlace(nothingKept));
        (await fx.Api.DeleteAsync($"/api/holds/{released}", releasing.Token)).Is(HttpStatusCode.NoContent);
        // Past expires_at but still 'active', as before its expiry job runs (the release above would have ended it).
        var due = await fx.Api.HoldIdAsync(expired.Token, HoldTestData.TrainingPlace(nothingKept));
        await SqlAsync("UPDATE holds SET expires_at = now() - interval '1 second' WHERE id = @due AND status = 'active' RETURNING id", new { due });

        // In line after the holds: nobody may hold a place of a training while people wait for one.
        await WaitForTrainingAsync(offered, training, "offered", offer);
        await WaitForTrainingAsync(first, training);
        await WaitForTrainingAsync(left, training, "left");
        await WaitForTrainingAsync(second, training);
        return new HeldAndWaitedFor(date, training, groupName, nothingKept, holder, offered, offer, first, second, left, expired);
    }

    // The part of the page in the section labelled by the heading id.
    internal static string Section(PanelPage page, string id)
    {
        var start = page.Text.IndexOf($"aria-labelledby=\"{id}\"", StringComparison.Ordinal);
        Assert.True(start >= 0, $"The page has no section {id}:\n{page.Html}");
        return page.Text[start..page.Text.IndexOf("</section>", start, StringComparison.Ordinal)];
    }

    // The body rows of the section's table with that caption.
    private static List<string> Rows(string section, string caption)
    {
        var table = section.Split($"<caption>{caption}</caption>")[1].Split("</table>")[0];
        return table.Split("<tbody>")[1].Split("<tr>").Skip(1).ToList();
    }

    private Task<long> WaitForTrainingAsync(TestUser user, long training, string status = "waiting", long? hold = null) => SqlAsync("""
        INSERT INTO waitlist_entries (user_id, training_id, status, hold_id, created_at, updated_at)
        VALUES (@user, @training, @status, @hold, now(), now()) RETURNING id
        """, new { user = user.Id, training, status, hold });

    private Task<long> WaitForSlotAsync(TestUser user, long stage, string date, string start, string end, string status = "waiting") => SqlAsync("""
        INSERT INTO waitlist_entries (user_id, stage_id, date, start_time, end_time, status, created_at, updated_at)
        VALUES (@user, @stage, @date::date, @start::time, @end::time, @status, now(), now()) RETURNING id
        """, new { user = user.Id, stage, date, start, end, status });

    // Runs a statement that answers the id of the row it wrote.
    private Task<long> SqlAsync(string sql, object args) => HoldTestData.ScalarAsync<long>(fx.Database.ConnectionString, sql, args);

    internal sealed record HeldAndWaitedFor(
        DateOnly Date, long Training, string GroupName, long NothingKept, TestUser Holder, TestUser Offered, long OfferHold,
        TestUser First, TestUser Second, TestUser Left, TestUser Expired);
}

using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Slices.Tests.Features.Events;
using Slices.Tests.Features.Restaurant;
using Slices.Tests.Features.Trainings;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Restaurant.RestaurantTestData;
using static Slices.Tests.Features.Stages.StageTestData;

namespace Slices.Tests.Features.Admin;

// The admin panel in headless Chromium, as an admin uses it; each test saves screenshots of the pages it visits.
public sealed class PanelBrowserTests(SlicesFixture fx, PanelBrowser browser) : IClassFixture<PanelBrowser>
{
    [Fact]
    public async Task An_admin_signs_in_finds_a_user_opens_their_page_and_signs_out()
    {
        var page = await browser.NewPageAsync();
        var user = await fx.NewUserAsync("browser");
        (await fx.Api.PatchAsync("/api/users/me", new { first_name = "Ada", last_name = "Lovelace <3" }, user.Token)).Is(HttpStatusCode.OK);
        var group = await fx.NewGroupAsync(user);
        var groupName = (await fx.Api.GetAsync($"/api/groups/{group}", user.Token)).Body!["name"]!.GetValue<string>();

        await page.GotoAsync("/admin/users");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/admin/signin\\?ReturnUrl=%2Fadmin%2Fusers$"));
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in" })).ToBeVisibleAsync();
        await PanelBrowser.ScreenshotAsync(page, "signin");
        await PanelBrowser.SignInAsync(page, page.Url);
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/admin/users$"));

        await page.GetByLabel("Username, email or name").FillAsync(user.Username);
        await page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        var rows = page.Locator("tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows.First).ToContainTextAsync("Ada Lovelace <3");
        await Assertions.Expect(page.GetByText("Showing 1–1 of 1")).ToBeVisibleAsync();
        await PanelBrowser.ScreenshotAsync(page, "users");

        await page.GetByRole(AriaRole.Link, new() { Name = user.Username }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = user.Username, Level = 1 })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".facts")).ToContainTextAsync("user");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = groupName })).ToBeVisibleAsync();
        await PanelBrowser.ScreenshotAsync(page, "user");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).First.ClickAsync();
        await Assertions.Expect(page.GetByText("You have signed out.")).ToBeVisibleAsync();
        await page.GotoAsync("/admin/users");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/admin/signin"));
    }

    [Fact]
    public async Task Deactivating_a_stages_bookings_goes_through_the_confirm_step_and_shows_the_count()
    {
        var page = await browser.NewPageAsync();
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageAsync();
        var (stageId, stageName) = (stage["id"]!.GetValue<long>(), stage["name"]!.GetValue<string>());
        var date = FutureDate();
        var bookings = new[]
        {
            (await fx.BookAsync(user.Token, stageId, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id,
            (await fx.BookAsync(user.Token, stageId, date, "11:00", "12:00")).Is(HttpStatusCode.Created).Id,
        };
        await PanelBrowser.SignInAsync(page, $"/admin/bookings?stage={stageId}");
        await Assertions.Expect(page.Locator("tbody tr")).ToHaveCountAsync(2);
        await PanelBrowser.ScreenshotAsync(page, "bookings");

        await page.GetByLabel("Of stage").SelectOptionAsync(new SelectOptionValue { Label = stageName });
        await page.GetByRole(AriaRole.Button, new() { Name = "Deactivate all…" }).ClickAsync();
        await Assertions.Expect(page.Locator(".confirm")).ToContainTextAsync($"This deactivates 2 bookings: the active bookings of {stageName}, whatever their date.");
        await PanelBrowser.ScreenshotAsync(page, "bookings-confirm");
        foreach (var id in bookings)
        {
            Assert.True((await fx.Api.GetAsync($"/api/bookings/{id}", user.Token)).Body!["active"]!.GetValue<bool>());
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Deactivate 2 bookings" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Deactivated" })).ToHaveTextAsync("Deactivated 2 bookings.");
        await Assertions.Expect(page.Locator("tbody tr.inactive")).ToHaveCountAsync(2);
        await PanelBrowser.ScreenshotAsync(page, "bookings-done");
        foreach (var id in bookings)
        {
            Assert.False((await fx.Api.GetAsync($"/api/bookings/{id}", user.Token)).Body!["active"]!.GetValue<bool>());
        }
    }

    [Fact]
    public async Task The_trainings_week_view_shows_enrolment_counts_and_fits_a_narrow_screen()
    {
        var page = await browser.NewPageAsync();
        var (alice, bob) = (await fx.NewUserAsync(), await fx.NewUserAsync());
        var group = await fx.NewGroupAsync(alice, bob);
        var groupName = (await fx.Api.GetAsync($"/api/groups/{group}", alice.Token)).Body!["name"]!.GetValue<string>();
        var monday = TrainingsPageTests.FarMonday();
        var training = await fx.NewTrainingAsync(group, TrainingsPageTests.Day(monday.AddDays(1)), capacity: 12);
        await fx.NewTrainingAsync(group, TrainingsPageTests.Day(monday.AddDays(4)));
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, alice.Token)).Is(HttpStatusCode.OK);
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, bob.Token)).Is(HttpStatusCode.OK);
        await PanelBrowser.SignInAsync(page);
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Admin panel" })).ToBeVisibleAsync();
        await PanelBrowser.ScreenshotAsync(page, "home");

        await page.GetByRole(AriaRole.Navigation, new() { Name = "Sections" }).GetByRole(AriaRole.Link, new() { Name = "Trainings" }).ClickAsync();
        await page.GetByLabel("Week of").FillAsync(TrainingsPageTests.Day(monday.AddDays(2)));
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();

        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = groupName });
        await Assertions.Expect(row).ToContainTextAsync("2 / 12 enrolled");
        await Assertions.Expect(row).ToContainTextAsync("0 enrolled");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Level = 2 }).First).ToContainTextAsync($"Week of {monday.Day} ");
        await PanelBrowser.ScreenshotAsync(page, "trainings");

        await page.GetByRole(AriaRole.Link, new() { Name = "Next week" }).ClickAsync();
        await Assertions.Expect(page.GetByText("No trainings this week.")).ToBeVisibleAsync();
        await page.GoBackAsync();

        await page.SetViewportSizeAsync(390, 844);
        var width = await page.EvaluateAsync<int>("document.documentElement.scrollWidth");
        Assert.True(width <= 390, $"The week view is {width} px wide on a 390 px screen");
        await Assertions.Expect(page.Locator($"td[data-day]:not(.empty)").First).ToBeVisibleAsync();
        await PanelBrowser.ScreenshotAsync(page, "trainings-narrow");
    }

    [Fact]
    public async Task An_admin_sees_who_holds_a_training_place_and_who_waits_for_one()
    {
        var page = await browser.NewPageAsync();
        var t = await new HoldsPageTests(fx).HeldAndWaitedForAsync();
        await PanelBrowser.SignInAsync(page);
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Sections" }).GetByRole(AriaRole.Link, new() { Name = "Holds and waitlists" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Holds and waitlists", Level = 1 })).ToBeVisibleAsync();

        await page.GetByLabel("From").FillAsync(TrainingsPageTests.Day(t.Date));
        await page.GetByLabel("To").FillAsync(TrainingsPageTests.Day(t.Date));
        await page.GetByRole(AriaRole.Button, new() { Name = "Show" }).ClickAsync();

        var training = page.GetByRole(AriaRole.Region, new() { Name = $"{TrainingsPageTests.Day(t.Date)} 18:00–19:30 · {t.GroupName}" });
        await Assertions.Expect(training).ToContainTextAsync("2 held · 0 free · 2 waiting");
        var holds = training.GetByRole(AriaRole.Table, new() { Name = "Active holds" });
        await Assertions.Expect(holds.GetByRole(AriaRole.Row).Filter(new() { HasText = t.Holder.Username })).ToContainTextAsync("1 place");
        var line = training.GetByRole(AriaRole.Table, new() { Name = "Waitlist" });
        await Assertions.Expect(line.GetByRole(AriaRole.Row).Filter(new() { HasText = t.First.Username })).ToContainTextAsync("2");
        await Assertions.Expect(line.GetByRole(AriaRole.Row).Filter(new() { HasText = t.First.Username })).ToContainTextAsync("waiting");
        await PanelBrowser.ScreenshotAsync(page, "holds");

        await line.GetByRole(AriaRole.Link, new() { Name = t.First.Username }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = t.First.Username, Level = 1 })).ToBeVisibleAsync();
        await page.GoBackAsync();

        await page.SetViewportSizeAsync(390, 844);
        var width = await page.EvaluateAsync<int>("document.documentElement.scrollWidth");
        Assert.True(width <= 390, $"The holds page is {width} px wide on a 390 px screen");
        await PanelBrowser.ScreenshotAsync(page, "holds-narrow");
    }

    [Fact]
    public async Task An_admin_finds_an_event_sees_its_thumbnail_opens_it_with_its_image_and_its_organization()
    {
        var page = await browser.NewPageAsync();
        var (tag, admin, alice) = (EventsTestData.Tag(), await fx.AdminTokenAsync(), await fx.NewUserAsync("browser"));
        (await fx.Api.PatchAsync("/api/users/me", new { first_name = "Alice", last_name = "Liddell" }, alice.Token)).Is(HttpStatusCode.OK);
        var organization = await fx.NewOrganizationAsync(admin, $"Riverside Arts {tag}", [alice.Id], postcode: "10115", address: "Main St 1");
        var title = $"Summer concert {tag}";
        var id = await fx.InsertEventAsync(alice.Id, title, new DateOnly(2031, 7, 4), await fx.SaveImageAsync(EventsTestData.Poster), [organization]);
        await fx.InsertEventAsync(alice.Id, $"Poetry night {tag}", new DateOnly(2031, 7, 18), organization);
        await PanelBrowser.SignInAsync(page, "/admin/events");

        await page.GetByLabel("Title").FillAsync(tag);
        await page.GetByLabel("Title").PressAsync("Enter");
        await Assertions.Expect(page.Locator("tbody tr")).ToHaveCountAsync(2);
        var image = page.GetByRole(AriaRole.Img, new() { Name = $"Image of the event “{title}”" });
        Assert.Equal(320, await NaturalWidthAsync(image));
        await Assertions.Expect(page.Locator("tbody tr").Nth(1)).ToContainTextAsync("no image");
        await PanelBrowser.ScreenshotAsync(page, "events");

        await page.GetByRole(AriaRole.Link, new() { Name = title }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = title, Level = 1 })).ToBeVisibleAsync();
        Assert.Equal(320, await NaturalWidthAsync(image));
        var organizer = page.GetByRole(AriaRole.Region, new() { Name = $"Riverside Arts {tag}" });
        await Assertions.Expect(organizer).ToContainTextAsync("10115, Main St 1");
        await Assertions.Expect(organizer.GetByRole(AriaRole.Row).Filter(new() { HasText = alice.Username })).ToContainTextAsync("Alice Liddell");
        await PanelBrowser.ScreenshotAsync(page, "event");

        await organizer.GetByRole(AriaRole.Link, new() { Name = $"Riverside Arts {tag}" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Riverside Arts {tag}", Level = 1 })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = alice.Username })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = title })).ToBeVisibleAsync();
        await PanelBrowser.ScreenshotAsync(page, "organization");

        // A phone: the list's rows become cards and the event page one column, with nothing wider than the screen.
        await page.SetViewportSizeAsync(390, 844);
        foreach (var (url, name) in new[] { ($"/admin/events?search={tag}", "events-narrow"), ($"/admin/events/{id}", "event-narrow") })
        {
            await page.GotoAsync(url);
            Assert.Equal(320, await NaturalWidthAsync(image));
            var width = await page.EvaluateAsync<int>("document.documentElement.scrollWidth");
            Assert.True(width <= 390, $"{url} is {width} px wide on a 390 px screen");
            await PanelBrowser.ScreenshotAsync(page, name);
        }
    }

    [Fact]
    public async Task An_admin_confirms_a_pending_reservation_sees_its_status_change_and_signs_out()
    {
        var page = await browser.NewPageAsync();
        var admin = await fx.AdminTokenAsync();
        var day = ReservationsPageTests.FarDay();
        var table = await fx.Api.NewTableIdAsync(admin);
        var id = (await fx.Api.RequestAsync(Request(table, day.AddHours(19), name: "Grace <Hopper>", comment: "Window seat, please"))).Is(HttpStatusCode.Created).Id;
        await PanelBrowser.SignInAsync(page);
        await page.GetByRole(AriaRole.Navigation, new() { Name = "Sections" }).GetByRole(AriaRole.Link, new() { Name = "Reservations" }).ClickAsync();
        await page.GetByLabel("Starting on").FillAsync(ReservationsPageTests.Day(day));
        await page.GetByLabel("Status").SelectOptionAsync("pending");
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        var row = page.GetByRole(AriaRole.Row).Filter(new() { HasText = $"#{id}" });
        await Assertions.Expect(row).ToContainTextAsync("Grace <Hopper>");
        await Assertions.Expect(row).ToContainTextAsync("pending");
        await PanelBrowser.ScreenshotAsync(page, "reservations");

        await page.GetByRole(AriaRole.Button, new() { Name = $"Confirm reservation #{id}" }).ClickAsync();

        await Assertions.Expect(page.GetByRole(AriaRole.Status)).ToHaveTextAsync($"Reservation #{id} of Grace <Hopper> is confirmed.");
        await Assertions.Expect(row).ToHaveCountAsync(0); // the list still shows pending ones only
        await page.GotoAsync($"/admin/reservations?date={ReservationsPageTests.Day(day)}");
        await Assertions.Expect(row).ToContainTextAsync("confirmed");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = $"Confirm reservation #{id}" })).ToHaveCountAsync(0);
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = $"Cancel reservation #{id}" })).ToBeVisibleAsync();
        Assert.Equal("confirmed", (await fx.Api.GetAsync($"/api/restaurant/reservations/{id}", admin)).Body!["status"]!.GetValue<string>());
        await PanelBrowser.ScreenshotAsync(page, "reservations-confirmed");

        await page.SetViewportSizeAsync(390, 844);
        var width = await page.EvaluateAsync<int>("document.documentElement.scrollWidth");
        Assert.True(width <= 390, $"The reservations page is {width} px wide on a 390 px screen");
        await PanelBrowser.ScreenshotAsync(page, "reservations-narrow");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).First.ClickAsync();
        await Assertions.Expect(page.GetByText("You have signed out.")).ToBeVisibleAsync();
        await page.GotoAsync("/admin/reservations");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/admin/signin"));
    }

    // The image's width in pixels once decoded; 0 when it did not load (a broken src, or refused by the CSP).
    private static Task<int> NaturalWidthAsync(ILocator image) =>
        image.EvaluateAsync<int>("img => img.decode().then(() => img.naturalWidth, () => 0)");
}

using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Slices.Tests.Features.Events;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Events.EventsTestData;

namespace Slices.Tests.Features.Admin;

public sealed partial class EventsPageTests(SlicesFixture fx)
{
    private static readonly DateOnly Day0 = new(2031, 5, 10);

    [Fact]
    public async Task Searching_by_title_lists_the_events_with_a_thumbnail_of_each_image()
    {
        var (tag, owner, admin) = (Tag(), await fx.NewUserAsync(), await fx.AdminTokenAsync());
        var organization = await fx.NewOrganizationAsync(admin, $"Hosts {tag}");
        var image = await fx.SaveImageAsync(Poster);
        var title = $"Gala <b>{tag}</b> & \"friends\"";
        var withImage = await fx.InsertEventAsync(owner.Id, title, Day0, image, [organization]);
        var withoutImage = await fx.InsertEventAsync(owner.Id, $"Plain {tag}", null, organization);
        await fx.InsertEventAsync(owner.Id, $"Other {Tag()}", Day0, image, [organization]);
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync("/admin/events?search=" + tag)).Is(HttpStatusCode.OK);

        Assert.Equal([withImage, withoutImage], EventIds(page));
        var thumbnail = Assert.Single(Thumbnails().Matches(page.Html));
        Assert.Equal($"/media/{image}", thumbnail.Groups["src"].Value);
        Assert.Equal($"Image of the event “{title}”", WebUtility.HtmlDecode(thumbnail.Groups["alt"].Value));
        Assert.DoesNotContain($"<b>{tag}", page.Html, StringComparison.Ordinal);
        Assert.Contains($"&lt;b&gt;{tag}&lt;/b&gt; &amp; &quot;friends&quot;", page.Html, StringComparison.Ordinal);
        Assert.Contains("no image", page.Html, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"/admin/organizations/{organization}\">Hosts {tag}</a>", page.Html, StringComparison.Ordinal);
        Assert.Contains("Showing 1–2 of 2", page.Html, StringComparison.Ordinal);
        // The src is what the media route serves: the browser can load it under the panel's CSP (img-src 'self').
        var served = (await fx.Api.GetAsync(thumbnail.Groups["src"].Value)).Is(HttpStatusCode.OK);
        Assert.Equal("image/png", served.Response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Date_range_organization_and_order_filters_narrow_the_list_and_stay_filled_in()
    {
        var (tag, owner, admin) = (Tag(), await fx.NewUserAsync(), await fx.AdminTokenAsync());
        var (a, b) = (await fx.NewOrganizationAsync(admin), await fx.NewOrganizationAsync(admin));
        var first = await fx.InsertEventAsync(owner.Id, $"First {tag}", Day0, a);
        var second = await fx.InsertEventAsync(owner.Id, $"Second {tag}", Day0.AddDays(10), a, b);
        var third = await fx.InsertEventAsync(owner.Id, $"Third {tag}", Day0.AddDays(20), b);
        var undated = await fx.InsertEventAsync(owner.Id, $"Undated {tag}", null, a);
        using var panel = await PanelClient.SignedInAsync(fx);

        var range = (await panel.GetAsync($"/admin/events?search={tag}&date_from={Iso(Day0.AddDays(5))}&date_to={Iso(Day0.AddDays(20))}")).Is(HttpStatusCode.OK);
        var ofA = (await panel.GetAsync($"/admin/events?search={tag}&organization={a}")).Is(HttpStatusCode.OK);
        var both = (await panel.GetAsync($"/admin/events?search={tag}&organization={b}&date_to={Iso(Day0.AddDays(10))}")).Is(HttpStatusCode.OK);
        var latestFirst = (await panel.GetAsync($"/admin/events?search={tag}&ordering=-date")).Is(HttpStatusCode.OK);

        Assert.Equal([second, third], EventIds(range));
        Assert.Contains($"id=\"date_from\" name=\"date_from\" type=\"date\" value=\"{Iso(Day0.AddDays(5))}\"", range.Html, StringComparison.Ordinal);
        Assert.Equal([first, second, undated], EventIds(ofA));
        Assert.Contains($"<option value=\"{a}\" selected>", ofA.Html, StringComparison.Ordinal);
        Assert.Equal([second], EventIds(both));
        Assert.Equal([undated, third, second, first], EventIds(latestFirst)); // PostgreSQL puts nulls first when descending
        Assert.Contains("<option value=\"-date\" selected>", latestFirst.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_list_pages_by_fifty_and_the_page_links_keep_the_filters()
    {
        var (tag, owner) = (Tag(), await fx.NewUserAsync());
        var ids = new List<long>();
        for (var i = 0; i < 51; i++)
        {
            ids.Add(await fx.InsertEventAsync(owner.Id, $"Series {tag} #{i}", Day0.AddDays(i)));
        }

        using var panel = await PanelClient.SignedInAsync(fx);

        var one = (await panel.GetAsync($"/admin/events?search={tag}&ordering=date")).Is(HttpStatusCode.OK);
        var two = (await panel.GetAsync($"/admin/events?search={tag}&ordering=date&page=2")).Is(HttpStatusCode.OK);

        Assert.Equal(ids.Take(50), EventIds(one));
        Assert.Contains("Showing 1–50 of 51", one.Html, StringComparison.Ordinal);
        Assert.Contains($"<a rel=\"next\" href=\"/admin/events?search={tag}&ordering=date&page=2\">", one.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("rel=\"prev\"", one.Html, StringComparison.Ordinal);
        Assert.Equal([ids[50]], EventIds(two));
        Assert.Contains("Showing 51–51 of 51", two.Html, StringComparison.Ordinal);
        Assert.Contains($"<a rel=\"prev\" href=\"/admin/events?search={tag}&ordering=date\">", two.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("rel=\"next\"", two.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_filters_are_a_400_naming_the_field()
    {
        using var panel = await PanelClient.SignedInAsync(fx);

        var parsed = (await panel.GetAsync("/admin/events?date_from=soon&organization=first")).Is(HttpStatusCode.BadRequest);
        var validated = (await panel.GetAsync("/admin/events?ordering=title")).Is(HttpStatusCode.BadRequest);

        Assert.Contains("From must be a date (yyyy-mm-dd).", parsed.Html, StringComparison.Ordinal);
        Assert.Contains("Organization must be a number.", parsed.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("<tbody>", parsed.Html, StringComparison.Ordinal);
        Assert.Contains("ordering must be one of date, -date.", validated.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_event_page_shows_the_image_and_each_organizations_active_members()
    {
        var (tag, admin) = (Tag(), await fx.AdminTokenAsync());
        var (alice, bob, carol) = (await fx.NewUserAsync("alice"), await fx.NewUserAsync("bob"), await fx.NewUserAsync("carol"));
        (await fx.Api.PatchAsync("/api/users/me", new { first_name = "Alice", last_name = "<Ó'Brien>" }, alice.Token)).Is(HttpStatusCode.OK);
        var hosts = await fx.NewOrganizationAsync(admin, $"Hosts & <Co> {tag}", [alice.Id, bob.Id], postcode: "10115", address: "Main St 1");
        var emptied = await fx.NewOrganizationAsync(admin, $"Emptied {tag}", [carol.Id]);
        (await fx.Api.DeleteAsync($"/api/users/{bob.Username}", admin)).Is(HttpStatusCode.NoContent);
        (await fx.Api.DeleteAsync($"/api/users/{carol.Username}", admin)).Is(HttpStatusCode.NoContent);
        var image = await fx.SaveImageAsync(Poster);
        var id = await fx.InsertEventAsync(alice.Id, $"Opening <night> {tag}", Day0, image, [hosts, emptied]);
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync($"/admin/events/{id}")).Is(HttpStatusCode.OK);

        Assert.Contains($"<h1>Opening &lt;night&gt; {tag}</h1>", page.Html, StringComparison.Ordinal);
        Assert.Contains($"<img src=\"/media/{image}\" alt=\"Image of the event “Opening <night> {tag}”\" />", page.Text, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"/media/{image}\">Open the image file</a>", page.Html, StringComparison.Ordinal);
        Assert.Contains(Iso(Day0), page.Html, StringComparison.Ordinal);
        Assert.Contains($"About Opening &lt;night&gt; {tag}", page.Html, StringComparison.Ordinal);
        var (hostsPart, emptiedPart) = (Section(page, hosts), Section(page, emptied));
        Assert.Contains($"<a href=\"/admin/organizations/{hosts}\">Hosts &amp; &lt;Co&gt; {tag}</a>", hostsPart, StringComparison.Ordinal);
        Assert.Contains("10115, Main St 1", hostsPart, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"/admin/users/{alice.Username}\">{alice.Username}</a>", hostsPart, StringComparison.Ordinal);
        Assert.Contains("Alice &lt;&#xD3;&#x27;Brien&gt;", hostsPart, StringComparison.Ordinal);
        Assert.DoesNotContain(bob.Username, page.Html, StringComparison.Ordinal);
        Assert.Contains("No active members.", emptiedPart, StringComparison.Ordinal);
        Assert.DoesNotContain(carol.Username, page.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_event_without_an_image_or_organizations_says_so()
    {
        var id = await fx.InsertEventAsync((await fx.NewUserAsync()).Id, $"Bare {Tag()}", null);
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync($"/admin/events/{id}")).Is(HttpStatusCode.OK);

        Assert.Contains("This event has no image.", page.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("<img", page.Html, StringComparison.Ordinal);
        Assert.Contains("No organization organizes this event.", page.Html, StringComparison.Ordinal);
        Assert.Contains("no date", page.Html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/admin/events/9000000000000")]
    [InlineData("/admin/events/not-a-number")]
    [InlineData("/admin/organizations/9000000000000")]
    [InlineData("/admin/organizations/0")]
    public async Task A_missing_event_or_organization_is_the_not_found_page(string url)
    {
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync(url)).Is(HttpStatusCode.NotFound);

        Assert.Equal("text/html", page.Response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<h1>Not found</h1>", page.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_events_pages_refuse_a_users_bearer_token_and_an_admin_who_lost_the_role()
    {
        var (admin, user) = (await fx.AdminTokenAsync(), await fx.NewUserAsync());
        var organization = await fx.NewOrganizationAsync(admin);
        var id = await fx.InsertEventAsync(user.Id, $"Closed {Tag()}", Day0, organization);
        var username = $"boss_{Guid.NewGuid():N}"[..24];
        (await fx.Api.PostAsync("/api/users", new { username, password = "long-enough-1", role = "admin" }, admin)).Is(HttpStatusCode.Created);
        using var panel = await PanelClient.SignedInAsync(fx, username, "long-enough-1");
        string[] urls = ["/admin/events", $"/admin/events/{id}", "/admin/organizations", $"/admin/organizations/{organization}"];
        foreach (var url in urls)
        {
            (await panel.GetAsync(url)).Is(HttpStatusCode.OK);
        }

        (await fx.Api.PatchAsync($"/api/users/{username}", new { role = "user" }, admin)).Is(HttpStatusCode.OK);

        using var bearer = new PanelClient(fx.Host);
        foreach (var url in urls)
        {
            Assert.DoesNotContain("Closed", (await panel.GetAsync(url)).IsSentToSignIn().Html, StringComparison.Ordinal);
            (await bearer.GetAsync(url, user.Token)).IsSentToSignIn();
        }
    }

    internal static string Iso(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    // The events of the list, in order, by the links of their rows.
    internal static long[] EventIds(PanelPage page) =>
        EventLinks().Matches(page.Html.Split("<tbody>")[1]).Select(m => long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToArray();

    // The part of an event page about one organization.
    private static string Section(PanelPage page, long organization) =>
        page.Html.Split($"aria-labelledby=\"organization-{organization}\"")[1].Split("</section>")[0];

    [GeneratedRegex("<th scope=\"row\"><a href=\"/admin/events/([0-9]+)\">")]
    private static partial Regex EventLinks();

    [GeneratedRegex("<img class=\"thumb\" src=\"(?<src>[^\"]+)\" alt=\"(?<alt>[^\"]+)\"")]
    private static partial Regex Thumbnails();
}

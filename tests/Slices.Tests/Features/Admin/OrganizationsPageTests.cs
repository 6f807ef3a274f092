using System.Net;
using Slices.Tests.Features.Events;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Events.EventsTestData;

namespace Slices.Tests.Features.Admin;

public sealed class OrganizationsPageTests(SlicesFixture fx)
{
    [Fact]
    public async Task Searching_finds_an_organization_with_its_address_members_and_events_link()
    {
        var (tag, admin) = (Tag(), await fx.AdminTokenAsync());
        var (alice, bob) = (await fx.NewUserAsync(), await fx.NewUserAsync());
        var id = await fx.NewOrganizationAsync(admin, $"Club <i>{tag}</i> & co", [alice.Id, bob.Id], postcode: "10115", address: "Main St 1");
        await fx.NewOrganizationAsync(admin, $"Elsewhere {Tag()}");
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync("/admin/organizations?search=" + tag)).Is(HttpStatusCode.OK);

        var row = Assert.Single(page.Html.Split("<tbody>")[1].Split("<tr>").Skip(1));
        Assert.Contains($"<a href=\"/admin/organizations/{id}\">Club &lt;i&gt;{tag}&lt;/i&gt; &amp; co</a>", row, StringComparison.Ordinal);
        Assert.Contains("<td data-label=\"Address\">10115, Main St 1</td>", row, StringComparison.Ordinal);
        Assert.Contains("<td data-label=\"Members\">2</td>", row, StringComparison.Ordinal);
        Assert.Contains($"href=\"/admin/events?organization={id}\"", row, StringComparison.Ordinal);
        Assert.Contains("Showing 1–1 of 1", page.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_search_too_long_is_a_400_with_the_validators_message()
    {
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync("/admin/organizations?search=" + new string('x', 201))).Is(HttpStatusCode.BadRequest);

        Assert.Contains("200 characters", page.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_organization_page_names_the_active_members_its_events_list_and_shows_the_rest_by_id()
    {
        var (tag, admin) = (Tag(), await fx.AdminTokenAsync());
        var (alice, bob, carol) = (await fx.NewUserAsync("alice"), await fx.NewUserAsync("bob"), await fx.NewUserAsync("carol"));
        (await fx.Api.PatchAsync("/api/users/me", new { first_name = "Alice", last_name = "Smith" }, alice.Token)).Is(HttpStatusCode.OK);
        var id = await fx.NewOrganizationAsync(admin, $"Hosts {tag}", [alice.Id, bob.Id, carol.Id]);
        (await fx.Api.DeleteAsync($"/api/users/{carol.Username}", admin)).Is(HttpStatusCode.NoContent);
        var gala = await fx.InsertEventAsync(alice.Id, $"Gala <{tag}>", new DateOnly(2031, 6, 1), id);
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync($"/admin/organizations/{id}")).Is(HttpStatusCode.OK);

        Assert.Contains($"<h1>Hosts {tag}</h1>", page.Html, StringComparison.Ordinal);
        Assert.Contains("<caption>3 members</caption>", page.Html, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"/admin/users/{alice.Username}\">{alice.Username}</a>", page.Html, StringComparison.Ordinal);
        Assert.Contains("<td data-label=\"Name\">Alice Smith</td>", page.Html, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"/admin/users/{bob.Username}\">{bob.Username}</a>", page.Html, StringComparison.Ordinal);
        Assert.Contains($"<span>user #{carol.Id}</span>", page.Html, StringComparison.Ordinal);
        Assert.DoesNotContain(carol.Username, page.Html, StringComparison.Ordinal);
        Assert.Contains("The others are shown by id.", page.Html, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"/admin/events/{gala}\">Gala &lt;{tag}&gt;</a>", page.Html, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"/admin/events?organization={id}\">", page.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_organization_without_events_shows_its_members_by_id()
    {
        var (tag, admin, alice) = (Tag(), await fx.AdminTokenAsync(), await fx.NewUserAsync());
        var id = await fx.NewOrganizationAsync(admin, $"Quiet {tag}", [alice.Id]);
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync($"/admin/organizations/{id}")).Is(HttpStatusCode.OK);

        Assert.Contains($"<span>user #{alice.Id}</span>", page.Html, StringComparison.Ordinal);
        Assert.DoesNotContain(alice.Username, page.Html, StringComparison.Ordinal);
        Assert.Contains("This organization organizes no events.", page.Html, StringComparison.Ordinal);
    }
}

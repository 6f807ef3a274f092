using System.Net;
using Slices.Tests.Features.Trainings;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Admin;

public sealed class UsersPageTests(SlicesFixture fx)
{
    [Fact]
    public async Task Searching_finds_a_user_and_shows_what_they_typed_encoded()
    {
        var user = await fx.NewUserAsync("panel");
        (await fx.Api.PatchAsync("/api/users/me", new { first_name = "<script>alert('x')</script>", last_name = "O'Hara & Sons" }, user.Token)).Is(HttpStatusCode.OK);
        var other = await fx.NewUserAsync("panel");
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync("/admin/users?search=" + Uri.EscapeDataString(user.Username))).Is(HttpStatusCode.OK);

        Assert.Contains($"href=\"/admin/users/{user.Username}\"", page.Html, StringComparison.Ordinal);
        Assert.DoesNotContain(other.Username, page.Html, StringComparison.Ordinal);
        Assert.Contains("Showing 1–1 of 1", page.Html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;", page.Html, StringComparison.Ordinal);
        Assert.Contains("O&#x27;Hara &amp; Sons", page.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", page.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_role_filter_keeps_only_that_role()
    {
        var user = await fx.NewUserAsync("panel");
        using var panel = await PanelClient.SignedInAsync(fx);

        var admins = (await panel.GetAsync("/admin/users?role=admin&search=" + Uri.EscapeDataString(user.Username))).Is(HttpStatusCode.OK);
        var users = (await panel.GetAsync("/admin/users?role=user&search=" + Uri.EscapeDataString(user.Username))).Is(HttpStatusCode.OK);

        Assert.DoesNotContain(user.Username, admins.Html.Split("<tbody>")[1], StringComparison.Ordinal);
        Assert.Contains(user.Username, users.Html.Split("<tbody>")[1], StringComparison.Ordinal);
        Assert.Contains("<option value=\"user\" selected>", users.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Invalid_filters_are_a_400_with_the_validators_message()
    {
        using var panel = await PanelClient.SignedInAsync(fx);

        var tooLong = (await panel.GetAsync("/admin/users?search=" + new string('x', 201))).Is(HttpStatusCode.BadRequest);
        var badRole = (await panel.GetAsync("/admin/users?role=boss")).Is(HttpStatusCode.BadRequest);

        Assert.Contains("200 characters", tooLong.Html, StringComparison.Ordinal);
        Assert.Contains("role must be &#x27;user&#x27; or &#x27;admin&#x27;.", badRole.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_user_page_shows_the_users_groups_and_role()
    {
        var user = await fx.NewUserAsync("panel");
        var group = await fx.NewGroupAsync(user);
        var groupName = (await fx.Api.GetAsync($"/api/groups/{group}", user.Token)).Body!["name"]!.GetValue<string>();
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync($"/admin/users/{user.Username}")).Is(HttpStatusCode.OK);

        Assert.Contains($"<h1>{user.Username}</h1>", page.Html, StringComparison.Ordinal);
        Assert.Contains("<span class=\"badge role-user\">user</span>", page.Html, StringComparison.Ordinal);
        Assert.Contains($"<a href=\"/admin/trainings?group={group}\">{groupName}</a>", page.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_user_in_no_group_says_so()
    {
        var user = await fx.NewUserAsync("panel");
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync($"/admin/users/{user.Username}")).Is(HttpStatusCode.OK);

        Assert.Contains("Not a member of any group.", page.Html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_user_is_a_404_page()
    {
        using var panel = await PanelClient.SignedInAsync(fx);

        var page = (await panel.GetAsync($"/admin/users/nobody_{Guid.NewGuid():N}")).Is(HttpStatusCode.NotFound);

        Assert.Equal("text/html", page.Response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<h1>Not found</h1>", page.Html, StringComparison.Ordinal);
    }
}

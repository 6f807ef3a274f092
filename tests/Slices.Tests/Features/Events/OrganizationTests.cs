using System.Net;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Events;

public sealed class OrganizationTests(SlicesFixture fx)
{
    [Fact]
    public async Task A_user_creates_an_organization_and_becomes_its_member()
    {
        var user = await fx.NewUserAsync();
        var title = $"Philharmonic {EventsTestData.Tag()}";
        var created = (await fx.Api.PostAsync("/api/organizations", new { title, description = "Strings", address = "Main St 1", postcode = "101000" }, user.Token))
            .Is(HttpStatusCode.Created);
        var id = created.Id;
        Assert.Equal($"/api/organizations/{id}", created.Header("Location"));
        Assert.Equal(title, created.Body!["title"]!.GetValue<string>());
        Assert.Equal("Strings", created.Body["description"]!.GetValue<string>());
        Assert.Equal("Main St 1", created.Body["address"]!.GetValue<string>());
        Assert.Equal("101000", created.Body["postcode"]!.GetValue<string>());
        Assert.Equal("101000, Main St 1", created.Body["full_address"]!.GetValue<string>());
        Assert.Equal([user.Id], created.Body["users"].LongArray());

        var read = (await fx.Api.GetAsync($"/api/organizations/{id}", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal(created.Body.ToJsonString(), read.Body!.ToJsonString());
        Assert.Matches("^\"[0-9]+\"$", read.Header("ETag"));
    }

    [Fact]
    public async Task An_admin_creating_an_organization_lists_only_the_members_given()
    {
        var admin = await fx.AdminTokenAsync();
        var member = await fx.NewUserAsync();
        var created = (await fx.Api.PostAsync("/api/organizations", new { title = $"Admin org {EventsTestData.Tag()}", users = new[] { member.Id, member.Id } }, admin))
            .Is(HttpStatusCode.Created);
        Assert.Equal([member.Id], created.Body!["users"].LongArray());
    }

    [Fact]
    public async Task A_repeated_Idempotency_Key_replays_the_first_creation()
    {
        var user = await fx.NewUserAsync();
        var title = $"Once {EventsTestData.Tag()}";
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };
        var first = (await fx.Api.PostAsync("/api/organizations", new { title }, user.Token, key)).Is(HttpStatusCode.Created);
        var again = (await fx.Api.PostAsync("/api/organizations", new { title }, user.Token, key)).Is(HttpStatusCode.Created);
        Assert.Equal("true", again.Header("Idempotent-Replayed"));
        Assert.Equal(first.Id, again.Id);
        Assert.Single((await fx.Api.GetAsync($"/api/organizations?search={title}", user.Token)).Is(HttpStatusCode.OK).Array);
    }

    [Fact]
    public async Task Unknown_user_ids_are_refused_with_400_and_nothing_is_created()
    {
        var user = await fx.NewUserAsync();
        var title = $"Ghosts {EventsTestData.Tag()}";
        (await fx.Api.PostAsync("/api/organizations", new { title, users = new[] { user.Id, long.MaxValue } }, user.Token))
            .IsProblem(HttpStatusCode.BadRequest, "unknown_user");
        var list = (await fx.Api.GetAsync($"/api/organizations?search={title}", user.Token)).Is(HttpStatusCode.OK);
        Assert.Empty(list.Array);
        Assert.Equal("0", list.Header("X-Total-Count"));
    }

    [Theory]
    [InlineData("101000", "Moscow, Tverskaya 1", "101000, Moscow, Tverskaya 1")]
    [InlineData(null, "Moscow, Tverskaya 1", "Moscow, Tverskaya 1")]
    [InlineData("101000", null, "101000")]
    [InlineData(null, null, null)]
    [InlineData("", "  ", null)]
    public async Task Full_address_joins_whichever_of_postcode_and_address_exist(string? postcode, string? address, string? expected)
    {
        var user = await fx.NewUserAsync();
        var id = await fx.NewOrganizationAsync(user.Token, postcode: postcode, address: address);
        var read = (await fx.Api.GetAsync($"/api/organizations/{id}", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal(expected, read.Body!["full_address"]?.GetValue<string>());
        Assert.True(read.Body.AsObject().ContainsKey("full_address"), "full_address is written even when null");
    }

    [Fact]
    public async Task Title_is_required_and_at_most_255_characters()
    {
        var user = await fx.NewUserAsync();
        var missing = (await fx.Api.PostAsync("/api/organizations", new { description = "no title" }, user.Token)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(missing.Body!["errors"]!["title"]);
        var tooLong = (await fx.Api.PostAsync("/api/organizations", new { title = new string('t', 256) }, user.Token)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(tooLong.Body!["errors"]!["title"]);
        (await fx.Api.PostAsync("/api/organizations", new { title = new string('t', 255) }, user.Token)).Is(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_member_or_an_admin_may_change_an_organization_and_a_non_member_gets_403()
    {
        var member = await fx.NewUserAsync();
        var stranger = await fx.NewUserAsync();
        var admin = await fx.AdminTokenAsync();
        var id = await fx.NewOrganizationAsync(member.Token, title: "Before");

        (await fx.Api.PatchAsync($"/api/organizations/{id}", new { title = "Stranger's" }, stranger.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PutAsync($"/api/organizations/{id}", new { title = "Stranger's", users = new[] { stranger.Id } }, stranger.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.DeleteAsync($"/api/organizations/{id}", stranger.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        var unchanged = (await fx.Api.GetAsync($"/api/organizations/{id}", stranger.Token)).Is(HttpStatusCode.OK);
        Assert.Equal("Before", unchanged.Body!["title"]!.GetValue<string>());
        Assert.Equal([member.Id], unchanged.Body["users"].LongArray());

        var byMember = (await fx.Api.PatchAsync($"/api/organizations/{id}", new { title = "By member", postcode = "190000" }, member.Token)).Is(HttpStatusCode.OK);
        Assert.Equal("By member", byMember.Body!["title"]!.GetValue<string>());
        Assert.Equal("190000", byMember.Body["full_address"]!.GetValue<string>());
        Assert.Equal([member.Id], byMember.Body["users"].LongArray());

        var byAdmin = (await fx.Api.PatchAsync($"/api/organizations/{id}", new { description = "By admin" }, admin)).Is(HttpStatusCode.OK);
        Assert.Equal("By member", byAdmin.Body!["title"]!.GetValue<string>());
        Assert.Equal("By admin", byAdmin.Body["description"]!.GetValue<string>());
    }

    [Fact]
    public async Task PUT_replaces_every_field_and_the_member_list()
    {
        var member = await fx.NewUserAsync();
        var other = await fx.NewUserAsync();
        var id = await fx.NewOrganizationAsync(member.Token, postcode: "101000", address: "Old street");

        var replaced = (await fx.Api.PutAsync($"/api/organizations/{id}", new { title = "Replaced", users = new[] { other.Id } }, member.Token)).Is(HttpStatusCode.OK);
        Assert.Equal("Replaced", replaced.Body!["title"]!.GetValue<string>());
        Assert.Null(replaced.Body["address"]);
        Assert.Null(replaced.Body["postcode"]);
        Assert.Null(replaced.Body["full_address"]);
        Assert.Equal([other.Id], replaced.Body["users"].LongArray());

        // The former member handed it over: now only the new one may change it.
        (await fx.Api.PatchAsync($"/api/organizations/{id}", new { title = "Back" }, member.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PatchAsync($"/api/organizations/{id}", new { title = "Kept" }, other.Token)).Is(HttpStatusCode.OK);
    }

    [Fact]
    public async Task PUT_needs_the_member_list_and_PATCH_refuses_read_only_members()
    {
        var member = await fx.NewUserAsync();
        var id = await fx.NewOrganizationAsync(member.Token);
        var noUsers = (await fx.Api.PutAsync($"/api/organizations/{id}", new { title = "No users" }, member.Token)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(noUsers.Body!["errors"]!["users"]);
        var readOnly = (await fx.Api.PatchAsync($"/api/organizations/{id}", new { full_address = "x" }, member.Token)).IsProblem(HttpStatusCode.BadRequest, "read_only_field");
        Assert.NotNull(readOnly.Body!["errors"]!["full_address"]);
        (await fx.Api.PatchAsync($"/api/organizations/{id}", new { users = new[] { long.MaxValue } }, member.Token)).IsProblem(HttpStatusCode.BadRequest, "unknown_user");
        var after = (await fx.Api.GetAsync($"/api/organizations/{id}", member.Token)).Is(HttpStatusCode.OK);
        Assert.Equal([member.Id], after.Body!["users"].LongArray());
    }

    [Fact]
    public async Task Members_and_admins_add_and_remove_members_and_others_get_403()
    {
        var owner = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        var admin = await fx.AdminTokenAsync();
        var id = await fx.NewOrganizationAsync(owner.Token);

        (await fx.Api.PostAsync($"/api/organizations/{id}/members", new { user = owner.Id }, bob.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        var added = (await fx.Api.PostAsync($"/api/organizations/{id}/members", new { user = bob.Id }, owner.Token)).Is(HttpStatusCode.Created);
        Assert.Equal($"/api/organizations/{id}/members/{bob.Id}", added.Header("Location"));
        Assert.Equal(id, added.Id);
        Assert.Equal(new[] { owner.Id, bob.Id }.Order(), added.Body!["users"].LongArray());
        (await fx.Api.PostAsync($"/api/organizations/{id}/members", new { user = bob.Id }, owner.Token)).IsProblem(HttpStatusCode.Conflict, "already_member");

        // Bob, a member now, removes the owner, who then may no longer manage it.
        (await fx.Api.DeleteAsync($"/api/organizations/{id}/members/{owner.Id}", bob.Token)).Is(HttpStatusCode.NoContent);
        (await fx.Api.DeleteAsync($"/api/organizations/{id}/members/{bob.Id}", owner.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.DeleteAsync($"/api/organizations/{id}/members/{owner.Id}", bob.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");

        (await fx.Api.PostAsync($"/api/organizations/{id}/members", new { user = owner.Id }, admin)).Is(HttpStatusCode.Created);
        (await fx.Api.PostAsync($"/api/organizations/{id}/members", new { user = long.MaxValue }, admin)).IsProblem(HttpStatusCode.BadRequest, "unknown_user");
        (await fx.Api.PostAsync($"/api/organizations/{id}/members", new { }, admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        (await fx.Api.DeleteAsync($"/api/organizations/{id}/members/bob", admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        var final = (await fx.Api.GetAsync($"/api/organizations/{id}", owner.Token)).Is(HttpStatusCode.OK);
        Assert.Equal(new[] { owner.Id, bob.Id }.Order(), final.Body!["users"].LongArray());
    }

    [Fact]
    public async Task Two_members_removing_each_other_at_once_leave_exactly_one_member()
    {
        for (var round = 0; round < 5; round++)
        {
            var alice = await fx.NewUserAsync();
            var bob = await fx.NewUserAsync();
            var id = await fx.NewOrganizationAsync(await fx.AdminTokenAsync(), users: [alice.Id, bob.Id]);

            var replies = await Task.WhenAll(
                fx.Api.DeleteAsync($"/api/organizations/{id}/members/{bob.Id}", alice.Token),
                fx.Api.DeleteAsync($"/api/organizations/{id}/members/{alice.Id}", bob.Token));

            // Whoever comes second is no longer a member when its turn comes: the organization is never left orphaned by a race.
            Assert.Single(replies, r => r.Status == HttpStatusCode.NoContent);
            Assert.Single(replies, r => r.Status == HttpStatusCode.Forbidden);
            var users = (await fx.Api.GetAsync($"/api/organizations/{id}", alice.Token)).Is(HttpStatusCode.OK).Body!["users"].LongArray();
            Assert.Single(users);
        }
    }

    [Fact]
    public async Task Members_added_concurrently_are_all_kept()
    {
        var owner = await fx.NewUserAsync();
        var id = await fx.NewOrganizationAsync(owner.Token);
        var newcomers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => fx.NewUserAsync()));

        var replies = await Task.WhenAll(newcomers.Select(u => fx.Api.PostAsync($"/api/organizations/{id}/members", new { user = u.Id }, owner.Token)));

        Assert.All(replies, r => r.Is(HttpStatusCode.Created));
        var users = (await fx.Api.GetAsync($"/api/organizations/{id}", owner.Token)).Is(HttpStatusCode.OK).Body!["users"].LongArray();
        Assert.Equal(newcomers.Select(u => u.Id).Append(owner.Id).Order(), users);
    }

    [Fact]
    public async Task A_membership_change_moves_the_ETag_and_a_stale_If_Match_is_412()
    {
        var owner = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        var id = await fx.NewOrganizationAsync(owner.Token, title: "Versioned");
        var etag = (await fx.Api.GetAsync($"/api/organizations/{id}", owner.Token)).Is(HttpStatusCode.OK).Header("ETag")!;

        var added = (await fx.Api.PostAsync($"/api/organizations/{id}/members", new { user = bob.Id }, owner.Token, IfMatch(etag))).Is(HttpStatusCode.Created);
        var after = (await fx.Api.GetAsync($"/api/organizations/{id}", owner.Token)).Is(HttpStatusCode.OK).Header("ETag")!;
        Assert.NotEqual(etag, after);
        Assert.Equal(after, added.Header("ETag"));

        (await fx.Api.PatchAsync($"/api/organizations/{id}", new { title = "Stale" }, owner.Token, IfMatch(etag))).IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        (await fx.Api.DeleteAsync($"/api/organizations/{id}/members/{bob.Id}", owner.Token, IfMatch(etag))).IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        (await fx.Api.DeleteAsync($"/api/organizations/{id}", owner.Token, IfMatch(etag))).IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        var still = (await fx.Api.GetAsync($"/api/organizations/{id}", owner.Token)).Is(HttpStatusCode.OK);
        Assert.Equal("Versioned", still.Body!["title"]!.GetValue<string>());
        Assert.Equal(new[] { owner.Id, bob.Id }.Order(), still.Body["users"].LongArray());

        (await fx.Api.PatchAsync($"/api/organizations/{id}", new { title = "Fresh" }, owner.Token, IfMatch(after))).Is(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Deleting_an_organization_keeps_the_events_it_organized()
    {
        var owner = await fx.NewUserAsync();
        var id = await fx.NewOrganizationAsync(owner.Token);
        var eventId = await fx.InsertEventAsync(owner.Id, $"Orphaned {EventsTestData.Tag()}", null, id);

        (await fx.Api.DeleteAsync($"/api/organizations/{id}", owner.Token)).Is(HttpStatusCode.NoContent);
        (await fx.Api.GetAsync($"/api/organizations/{id}", owner.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.DeleteAsync($"/api/organizations/{id}", owner.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        var detail = (await fx.Api.GetAsync($"/api/events/{eventId}", owner.Token)).Is(HttpStatusCode.OK);
        Assert.Empty(detail.Body!["organizations"]!.AsArray());
    }

    [Fact]
    public async Task An_absent_organization_is_404_for_every_route()
    {
        var admin = await fx.AdminTokenAsync();
        const string url = "/api/organizations/999999999999";
        (await fx.Api.GetAsync(url, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.PutAsync(url, new { title = "x", users = Array.Empty<long>() }, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.PatchAsync(url, new { title = "x" }, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.DeleteAsync(url, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.PostAsync($"{url}/members", new { user = 1 }, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.DeleteAsync($"{url}/members/1", admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task The_list_searches_titles_case_insensitively_with_paging_headers()
    {
        var user = await fx.NewUserAsync();
        var tag = EventsTestData.Tag();
        var ids = new List<long>();
        foreach (var name in new[] { $"{tag} Choir", $"Big {tag} band", $"{tag}" })
        {
            ids.Add(await fx.NewOrganizationAsync(user.Token, title: name));
        }

        await fx.NewOrganizationAsync(user.Token, title: $"{tag[..6]} unrelated");
        var first = (await fx.Api.GetAsync($"/api/organizations?search={tag.ToUpperInvariant()}&limit=2", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal(ids.Take(2), first.Ids());
        Assert.Equal("3", first.Header("X-Total-Count"));
        Assert.Contains("rel=\"next\"", first.Header("Link"), StringComparison.Ordinal);
        var second = (await fx.Api.GetAsync($"/api/organizations?search={tag}&limit=2&offset=2", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal(ids.Skip(2), second.Ids());
        Assert.Contains("rel=\"prev\"", second.Header("Link"), StringComparison.Ordinal);
        Assert.Equal([user.Id], second.Array[0]!["users"].LongArray());
        Assert.Empty((await fx.Api.GetAsync($"/api/organizations?search={tag}%25", user.Token)).Is(HttpStatusCode.OK).Array);
    }

    private static Dictionary<string, string> IfMatch(string etag) => new() { ["If-Match"] = etag };
}

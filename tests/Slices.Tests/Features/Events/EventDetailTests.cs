using System.Net;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Events;

public sealed class EventDetailTests(SlicesFixture fx)
{
    private static readonly string[] MemberKeys = ["id", "username", "email", "phone_number", "first_name", "last_name"];
    private static readonly string[] OrganizationKeys = ["id", "title", "description", "full_address", "users"];

    [Fact]
    public async Task The_detail_groups_active_members_by_organization_and_leaves_out_deactivated_users()
    {
        var admin = await fx.AdminTokenAsync();
        var alice = await PersonAsync("Alice");
        var bob = await PersonAsync("Bob");
        var carol = await PersonAsync("Carol");
        var first = await fx.NewOrganizationAsync(admin, title: "First", users: [bob.Id, alice.Id], postcode: "101000", address: "Main St 1");
        var second = await fx.NewOrganizationAsync(admin, title: "Second", users: [carol.Id, bob.Id]);
        var id = await fx.InsertEventAsync(alice.Id, "Gala", new DateOnly(2031, 9, 1), "events/gala.webp", [second, first]);

        var before = (await fx.Api.GetAsync($"/api/events/{id}", alice.Token)).Is(HttpStatusCode.OK);
        Assert.Equal("Gala", before.Body!["title"]!.GetValue<string>());
        Assert.Equal("About Gala", before.Body["description"]!.GetValue<string>());
        Assert.Equal("2031-09-01", before.Body["date"]!.GetValue<string>());
        Assert.Equal("/media/events/gala.webp", before.Body["image_url"]!.GetValue<string>());
        var organizations = before.Body["organizations"]!.AsArray();
        Assert.Equal([first, second], organizations.Select(o => o!["id"]!.GetValue<long>()));
        Assert.Equal(OrganizationKeys, organizations[0]!.AsObject().Select(p => p.Key));
        Assert.Equal("101000, Main St 1", organizations[0]!["full_address"]!.GetValue<string>());
        Assert.Null(organizations[1]!["full_address"]);
        Assert.Equal(new[] { alice.Id, bob.Id }.Order(), organizations[0]!["users"]!.AsArray().Select(u => u!["id"]!.GetValue<long>()));
        Assert.Equal(new[] { bob.Id, carol.Id }.Order(), organizations[1]!["users"]!.AsArray().Select(u => u!["id"]!.GetValue<long>()));
        var member = organizations[0]!["users"]!.AsArray().Single(u => u!["id"]!.GetValue<long>() == alice.Id)!;
        Assert.Equal(MemberKeys, member.AsObject().Select(p => p.Key));
        Assert.Equal(alice.Username, member["username"]!.GetValue<string>());
        Assert.Equal($"{alice.Username}@example.com", member["email"]!.GetValue<string>());
        Assert.Equal("+12025550123", member["phone_number"]!.GetValue<string>());
        Assert.Equal("Alice", member["first_name"]!.GetValue<string>());
        Assert.Equal("Tester", member["last_name"]!.GetValue<string>());

        (await fx.Api.DeleteAsync($"/api/users/{carol.Username}", admin)).Is(HttpStatusCode.NoContent);
        var after = (await fx.Api.GetAsync($"/api/events/{id}", alice.Token)).Is(HttpStatusCode.OK);
        Assert.Equal([bob.Id], after.Body!["organizations"]![1]!["users"]!.AsArray().Select(u => u!["id"]!.GetValue<long>()));
        Assert.Equal(2, after.Body["organizations"]![0]!["users"]!.AsArray().Count);

        // The ETag covers the organizers' members: the deactivation changed it, so a cached copy is not "not modified".
        Assert.NotEqual(before.Header("ETag"), after.Header("ETag"));
        (await fx.Api.GetAsync($"/api/events/{id}", alice.Token, new Dictionary<string, string> { ["If-None-Match"] = before.Header("ETag")! })).Is(HttpStatusCode.OK);
        (await fx.Api.GetAsync($"/api/events/{id}", alice.Token, new Dictionary<string, string> { ["If-None-Match"] = after.Header("ETag")! })).Is(HttpStatusCode.NotModified);
    }

    [Fact]
    public async Task An_absent_event_is_404()
    {
        var admin = await fx.AdminTokenAsync();
        const string url = "/api/events/999999999999";
        (await fx.Api.GetAsync(url, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.PutAsync(url, new { title = "x", organizations = Array.Empty<long>() }, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.PatchAsync(url, new { title = "x" }, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.DeleteAsync(url, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task An_admin_replaces_and_patches_an_event()
    {
        var admin = await fx.AdminTokenAsync();
        var user = await fx.NewUserAsync();
        var first = await fx.NewOrganizationAsync(user.Token);
        var second = await fx.NewOrganizationAsync(user.Token);
        var id = await fx.InsertEventAsync(user.Id, "Original", new DateOnly(2031, 1, 1), first);

        var put = (await fx.Api.PutAsync($"/api/events/{id}", new { title = "Replaced", description = "New text", date = "2031-06-01", organizations = new[] { second, second } }, admin))
            .Is(HttpStatusCode.OK);
        Assert.Equal("Replaced", put.Body!["title"]!.GetValue<string>());
        Assert.Equal("New text", put.Body["description"]!.GetValue<string>());
        Assert.Equal("2031-06-01", put.Body["date"]!.GetValue<string>());
        Assert.Equal([second], put.Body["organizations"]!.AsArray().Select(o => o!["id"]!.GetValue<long>()));
        Assert.Equal([user.Id], put.Body["organizations"]![0]!["users"]!.AsArray().Select(u => u!["id"]!.GetValue<long>()));
        Assert.NotNull(put.Header("ETag"));

        var patched = (await fx.Api.PatchAsync($"/api/events/{id}", new { date = (string?)null }, admin)).Is(HttpStatusCode.OK);
        Assert.Null(patched.Body!["date"]);
        Assert.Equal("Replaced", patched.Body["title"]!.GetValue<string>());
        Assert.Equal("New text", patched.Body["description"]!.GetValue<string>());
        Assert.Equal([second], patched.Body["organizations"]!.AsArray().Select(o => o!["id"]!.GetValue<long>()));
        Assert.Equal([id], (await fx.Api.GetAsync($"/api/events?organization={second}", user.Token)).Is(HttpStatusCode.OK).Ids());
        Assert.Empty((await fx.Api.GetAsync($"/api/events?organization={first}", user.Token)).Is(HttpStatusCode.OK).Array);
    }

    [Fact]
    public async Task Invalid_event_changes_are_400_and_change_nothing()
    {
        var admin = await fx.AdminTokenAsync();
        var user = await fx.NewUserAsync();
        var org = await fx.NewOrganizationAsync(user.Token);
        var id = await fx.InsertEventAsync(user.Id, "Steady", null, org);

        (await fx.Api.PutAsync($"/api/events/{id}", new { title = "Ghost org", organizations = new[] { org, long.MaxValue } }, admin)).IsProblem(HttpStatusCode.BadRequest, "unknown_organization");
        var empty = (await fx.Api.PatchAsync($"/api/events/{id}", new { title = "" }, admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(empty.Body!["errors"]!["title"]);
        var tooLong = (await fx.Api.PatchAsync($"/api/events/{id}", new { title = new string('t', 256) }, admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(tooLong.Body!["errors"]!["title"]);
        var noOrganizations = (await fx.Api.PutAsync($"/api/events/{id}", new { title = "No organizations" }, admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(noOrganizations.Body!["errors"]!["organizations"]);
        var readOnly = (await fx.Api.PatchAsync($"/api/events/{id}", new { image_url = "/media/elsewhere.png" }, admin)).IsProblem(HttpStatusCode.BadRequest, "read_only_field");
        Assert.NotNull(readOnly.Body!["errors"]!["image_url"]);
        (await fx.Api.PatchAsync($"/api/events/{id}", new { date = "2031-02-30" }, admin)).IsProblem(HttpStatusCode.BadRequest, "malformed_json");
        (await fx.Api.PutAsync($"/api/events/{id}", new StringContent("title=x", System.Text.Encoding.UTF8, "text/plain"), admin))
            .IsProblem(HttpStatusCode.UnsupportedMediaType, "unsupported_media_type");

        var after = (await fx.Api.GetAsync($"/api/events/{id}", admin)).Is(HttpStatusCode.OK);
        Assert.Equal("Steady", after.Body!["title"]!.GetValue<string>());
        Assert.Equal([org], after.Body["organizations"]!.AsArray().Select(o => o!["id"]!.GetValue<long>()));
    }

    [Fact]
    public async Task A_user_may_read_but_not_change_or_delete_an_event()
    {
        var user = await fx.NewUserAsync();
        var org = await fx.NewOrganizationAsync(user.Token);
        var id = await fx.InsertEventAsync(user.Id, "Admins only", null, org);

        (await fx.Api.PutAsync($"/api/events/{id}", new { title = "Mine", organizations = new[] { org } }, user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PatchAsync($"/api/events/{id}", new { title = "Mine" }, user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.DeleteAsync($"/api/events/{id}", user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        var after = (await fx.Api.GetAsync($"/api/events/{id}", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal("Admins only", after.Body!["title"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_admin_deletes_an_event()
    {
        var admin = await fx.AdminTokenAsync();
        var user = await fx.NewUserAsync();
        var org = await fx.NewOrganizationAsync(user.Token);
        var id = await fx.InsertEventAsync(user.Id, "Short-lived", null, org);

        (await fx.Api.DeleteAsync($"/api/events/{id}", admin)).Is(HttpStatusCode.NoContent);
        (await fx.Api.GetAsync($"/api/events/{id}", user.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.DeleteAsync($"/api/events/{id}", admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        Assert.Empty((await fx.Api.GetAsync($"/api/events?organization={org}", user.Token)).Is(HttpStatusCode.OK).Array);
        (await fx.Api.GetAsync($"/api/organizations/{org}", user.Token)).Is(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_stale_If_Match_is_412_and_a_renamed_organizer_makes_the_ETag_stale()
    {
        var admin = await fx.AdminTokenAsync();
        var user = await fx.NewUserAsync();
        var org = await fx.NewOrganizationAsync(user.Token);
        var id = await fx.InsertEventAsync(user.Id, "Versioned", null, org);
        var etag = (await fx.Api.GetAsync($"/api/events/{id}", admin)).Is(HttpStatusCode.OK).Header("ETag")!;
        Assert.Matches("^\"[0-9]+\"$", etag);

        var changed = (await fx.Api.PatchAsync($"/api/events/{id}", new { title = "First edit" }, admin, IfMatch(etag))).Is(HttpStatusCode.OK);
        var current = changed.Header("ETag")!;
        Assert.NotEqual(etag, current);
        (await fx.Api.PatchAsync($"/api/events/{id}", new { title = "Lost update" }, admin, IfMatch(etag))).IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        (await fx.Api.DeleteAsync($"/api/events/{id}", admin, IfMatch(etag))).IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");

        (await fx.Api.PatchAsync($"/api/organizations/{org}", new { title = "Renamed organizer" }, user.Token)).Is(HttpStatusCode.OK);
        (await fx.Api.PutAsync($"/api/events/{id}", new { title = "Blind", organizations = new[] { org } }, admin, IfMatch(current)))
            .IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        var fresh = (await fx.Api.GetAsync($"/api/events/{id}", admin)).Is(HttpStatusCode.OK);
        Assert.Equal("First edit", fresh.Body!["title"]!.GetValue<string>());
        Assert.Equal("Renamed organizer", fresh.Body["organizations"]![0]!["title"]!.GetValue<string>());
        (await fx.Api.DeleteAsync($"/api/events/{id}", admin, IfMatch(fresh.Header("ETag")!))).Is(HttpStatusCode.NoContent);
    }

    private async Task<TestUser> PersonAsync(string firstName)
    {
        var username = $"p_{EventsTestData.Tag()}";
        const string password = "correct-horse-1";
        var reply = (await fx.Api.PostAsync("/api/auth/signup", new
        {
            username, email = $"{username}@example.com", password, phone_number = "+12025550123", first_name = firstName, last_name = "Tester",
        })).Is(HttpStatusCode.Created);
        return new TestUser(reply.Body!["user"]!["id"]!.GetValue<long>(), username, password,
            reply.Body["access_token"]!.GetValue<string>(), reply.Body["refresh_token"]!.GetValue<string>());
    }

    private static Dictionary<string, string> IfMatch(string etag) => new() { ["If-Match"] = etag };
}

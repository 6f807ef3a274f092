using System.Net;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Trainings;

public sealed class GroupsTests(SlicesFixture fx)
{
    [Fact]
    public async Task Admin_creates_reads_changes_and_deletes_a_group()
    {
        var admin = await fx.AdminTokenAsync();
        var name = $"Beginners {Guid.NewGuid():N}";
        var created = (await fx.Api.PostAsync("/api/groups", new { name, description = "Mondays" }, admin)).Is(HttpStatusCode.Created);
        var id = created.Id;
        Assert.Equal($"/api/groups/{id}", created.Header("Location"));
        Assert.Equal(name, created.Body!["name"]!.GetValue<string>());

        var user = await fx.NewUserAsync();
        var read = (await fx.Api.GetAsync($"/api/groups/{id}", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal("Mondays", read.Body!["description"]!.GetValue<string>());
        Assert.NotNull(read.Header("ETag"));

        var changed = (await fx.Api.PatchAsync($"/api/groups/{id}", new { description = "Tuesdays" }, admin)).Is(HttpStatusCode.OK);
        Assert.Equal(name, changed.Body!["name"]!.GetValue<string>());
        Assert.Equal("Tuesdays", changed.Body["description"]!.GetValue<string>());

        var listed = (await fx.Api.GetAsync($"/api/groups?search={Uri.EscapeDataString(name)}", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal([id], listed.Ids());

        (await fx.Api.DeleteAsync($"/api/groups/{id}", admin)).Is(HttpStatusCode.NoContent);
        (await fx.Api.GetAsync($"/api/groups/{id}", admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Group_writes_are_admin_only()
    {
        var user = await fx.NewUserAsync();
        var group = await fx.NewGroupAsync();
        (await fx.Api.PostAsync("/api/groups", new { name = "mine" }, user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PatchAsync($"/api/groups/{group}", new { name = "mine" }, user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.DeleteAsync($"/api/groups/{group}", user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PostAsync($"/api/groups/{group}/users", new { user = user.Id }, user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.DeleteAsync($"/api/groups/{group}/users/{user.Id}", user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PostAsync("/api/groups", new { name = "anon" })).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        (await fx.Api.GetAsync($"/api/groups/{group}")).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        (await fx.Api.GetAsync($"/api/groups/{group}/users")).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
    }

    [Fact]
    public async Task A_group_needs_a_name()
    {
        var reply = (await fx.Api.PostAsync("/api/groups", new { description = "no name" }, await fx.AdminTokenAsync()))
            .IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]!["name"]);
        var group = await fx.NewGroupAsync();
        reply = (await fx.Api.PatchAsync($"/api/groups/{group}", new { name = "" }, await fx.AdminTokenAsync()))
            .IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]!["name"]);
    }

    [Fact]
    public async Task A_stale_If_Match_changes_nothing()
    {
        var admin = await fx.AdminTokenAsync();
        var group = await fx.NewGroupAsync();
        var etag = (await fx.Api.GetAsync($"/api/groups/{group}", admin)).Is(HttpStatusCode.OK).Header("ETag")!;
        var changed = (await fx.Api.PatchAsync($"/api/groups/{group}", new { description = "first" }, admin, new Dictionary<string, string> { ["If-Match"] = etag }))
            .Is(HttpStatusCode.OK);
        Assert.NotEqual(etag, changed.Header("ETag"));
        (await fx.Api.PatchAsync($"/api/groups/{group}", new { description = "second" }, admin, new Dictionary<string, string> { ["If-Match"] = etag }))
            .IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        (await fx.Api.DeleteAsync($"/api/groups/{group}", admin, new Dictionary<string, string> { ["If-Match"] = etag }))
            .IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        var now = (await fx.Api.GetAsync($"/api/groups/{group}", admin)).Is(HttpStatusCode.OK);
        Assert.Equal("first", now.Body!["description"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_group_with_trainings_cannot_be_deleted()
    {
        var admin = await fx.AdminTokenAsync();
        var group = await fx.NewGroupAsync();
        var training = await fx.NewTrainingAsync(group, "2031-01-10");
        (await fx.Api.DeleteAsync($"/api/groups/{group}", admin)).IsProblem(HttpStatusCode.Conflict, "in_use");
        (await fx.Api.DeleteAsync($"/api/trainings/{training}", admin)).Is(HttpStatusCode.NoContent);
        (await fx.Api.DeleteAsync($"/api/groups/{group}", admin)).Is(HttpStatusCode.NoContent);
    }

    [Fact]
    public async Task Members_are_added_listed_and_removed()
    {
        var admin = await fx.AdminTokenAsync();
        var alice = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        var group = await fx.NewGroupAsync(alice);

        var added = (await fx.Api.PostAsync($"/api/groups/{group}/users", new { user = bob.Id }, admin)).Is(HttpStatusCode.Created);
        Assert.Equal($"/api/groups/{group}/users/{bob.Id}", added.Header("Location"));
        Assert.Equal(bob.Username, added.Body!["username"]!.GetValue<string>());

        var members = (await fx.Api.GetAsync($"/api/groups/{group}/users", alice.Token)).Is(HttpStatusCode.OK);
        Assert.Equal(new[] { alice.Id, bob.Id }.Order(), members.Ids().Order());
        Assert.Null(members.Array[0]!["email"]);
        var profile = (await fx.Api.GetAsync("/api/users/me", bob.Token)).Is(HttpStatusCode.OK);
        Assert.Contains(group, profile.Body!["groups"].Longs());

        (await fx.Api.DeleteAsync($"/api/groups/{group}/users/{bob.Id}", admin)).Is(HttpStatusCode.NoContent);
        (await fx.Api.DeleteAsync($"/api/groups/{group}/users/{bob.Id}", admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        Assert.Equal([alice.Id], (await fx.Api.GetAsync($"/api/groups/{group}/users", alice.Token)).Is(HttpStatusCode.OK).Ids());
    }

    [Fact]
    public async Task Adding_a_member_twice_an_unknown_user_or_to_an_unknown_group_is_refused()
    {
        var admin = await fx.AdminTokenAsync();
        var alice = await fx.NewUserAsync();
        var group = await fx.NewGroupAsync(alice);
        (await fx.Api.PostAsync($"/api/groups/{group}/users", new { user = alice.Id }, admin)).IsProblem(HttpStatusCode.Conflict, "already_member");
        (await fx.Api.PostAsync($"/api/groups/{group}/users", new { user = long.MaxValue }, admin)).IsProblem(HttpStatusCode.BadRequest, "unknown_user");
        (await fx.Api.PostAsync($"/api/groups/{long.MaxValue}/users", new { user = alice.Id }, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        var reply = (await fx.Api.PostAsync($"/api/groups/{group}/users", new { }, admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]!["user"]);
    }
}

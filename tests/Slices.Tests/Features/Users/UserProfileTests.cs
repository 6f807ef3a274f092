using System.Net;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Users;

public sealed class UserProfileTests(SlicesFixture fx)
{
    [Fact]
    public async Task A_user_changes_own_names_and_only_what_was_sent()
    {
        var user = await fx.NewUserAsync();
        (await fx.Api.PatchAsync("/api/users/me", new { first_name = "Grace", phone_number = "+12025550123" }, user.Token)).Is(HttpStatusCode.OK);
        var reply = (await fx.Api.PatchAsync("/api/users/me", new { last_name = "Hopper" }, user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal("Grace", reply.Body!["first_name"]!.GetValue<string>());
        Assert.Equal("Hopper", reply.Body["last_name"]!.GetValue<string>());
        Assert.Equal("+12025550123", reply.Body["phone_number"]!.GetValue<string>());
        Assert.Equal(user.Username, reply.Body["username"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("role", "\"admin\"")]
    [InlineData("groups", "[1]")]
    [InlineData("is_active", "false")]
    public async Task Mass_assignment_of_role_groups_or_is_active_is_refused_naming_the_field(string field, string value)
    {
        var user = await fx.NewUserAsync();
        var reply = (await fx.Api.PatchAsync("/api/users/me", $$"""{"first_name":"X","{{field}}":{{value}}}""", user.Token))
            .IsProblem(HttpStatusCode.BadRequest, "read_only_field");
        Assert.NotNull(reply.Body!["errors"]![field]);
        var me = (await fx.Api.GetAsync("/api/users/me", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal("user", me.Body!["role"]!.GetValue<string>());
        Assert.Equal(string.Empty, me.Body["first_name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Changing_the_password_needs_the_current_one()
    {
        var user = await fx.NewUserAsync();
        (await fx.Api.PatchAsync("/api/users/me", new { password = "brand-new-password" }, user.Token))
            .IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        (await fx.Api.PatchAsync("/api/users/me", new { password = "brand-new-password", current_password = "wrong-one" }, user.Token))
            .IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        (await fx.Api.PatchAsync("/api/users/me", new { password = "brand-new-password", current_password = user.Password }, user.Token))
            .Is(HttpStatusCode.OK);
        (await fx.Api.PostAsync("/api/auth/login", new { username = user.Username, password = "brand-new-password" })).Is(HttpStatusCode.OK);
        (await fx.Api.PostAsync("/api/auth/login", new { username = user.Username, password = user.Password })).Is(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_user_sees_own_profile_by_username_but_another_users_is_404()
    {
        var alice = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        (await fx.Api.GetAsync($"/api/users/{alice.Username}", alice.Token)).Is(HttpStatusCode.OK);
        (await fx.Api.GetAsync($"/api/users/{bob.Username}", alice.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.PatchAsync($"/api/users/{bob.Username}", new { first_name = "Mallory" }, alice.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.PutAsync($"/api/users/{bob.Username}", new { first_name = "Mallory" }, alice.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.DeleteAsync($"/api/users/{bob.Username}", alice.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        var bobNow = (await fx.Api.GetAsync("/api/users/me", bob.Token)).Is(HttpStatusCode.OK);
        Assert.Equal(string.Empty, bobNow.Body!["first_name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Admin_manages_users_role_and_deactivation()
    {
        var admin = await fx.AdminTokenAsync();
        var username = $"staff_{Guid.NewGuid():N}"[..24];
        var created = (await fx.Api.PostAsync("/api/users", new { username, password = "long-enough-1", role = "admin" }, admin)).Is(HttpStatusCode.Created);
        Assert.Equal("admin", created.Body!["role"]!.GetValue<string>());
        Assert.Equal($"/api/users/{username}", created.Header("Location"));

        var demoted = (await fx.Api.PatchAsync($"/api/users/{username}", new { role = "user", first_name = "Demoted" }, admin)).Is(HttpStatusCode.OK);
        Assert.Equal("user", demoted.Body!["role"]!.GetValue<string>());

        (await fx.Api.DeleteAsync($"/api/users/{username}", admin)).Is(HttpStatusCode.NoContent);
        var after = (await fx.Api.GetAsync($"/api/users/{username}", admin)).Is(HttpStatusCode.OK);
        Assert.False(after.Body!["is_active"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Admin_creates_a_user_with_groups_and_is_active_as_the_profile_shows_them()
    {
        var admin = await fx.AdminTokenAsync();
        var group = (await fx.Api.PostAsync("/api/groups", new { name = $"g_{Guid.NewGuid():N}" }, admin)).Is(HttpStatusCode.Created).Id;
        var username = $"u_{Guid.NewGuid():N}"[..20];

        var created = (await fx.Api.PostAsync("/api/users", new { username, password = "long-enough-1", groups = new[] { group }, is_active = false }, admin))
            .Is(HttpStatusCode.Created);
        var unknown = await fx.Api.PostAsync("/api/users", $$"""{"username":"{{username}}x","password":"long-enough-1","groups":[999999999]}""", admin);

        Assert.Equal([group], created.Body!["groups"]!.AsArray().Select(g => g!.GetValue<long>()));
        Assert.False(created.Body["is_active"]!.GetValue<bool>());
        var stored = (await fx.Api.GetAsync($"/api/users/{username}", admin)).Is(HttpStatusCode.OK);
        Assert.Equal(created.Body.ToJsonString(), stored.Body!.ToJsonString());
        Assert.Contains((await fx.Api.GetAsync($"/api/groups/{group}/users", admin)).Is(HttpStatusCode.OK).Array, u => u!["id"]!.GetValue<long>() == created.Id);
        unknown.IsProblem(HttpStatusCode.BadRequest, "unknown_group");
        (await fx.Api.GetAsync($"/api/users/{username}x", admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Admin_lists_users_with_search_role_and_paging_headers()
    {
        var admin = await fx.AdminTokenAsync();
        var tag = Guid.NewGuid().ToString("N")[..10];
        for (var i = 0; i < 3; i++)
        {
            (await fx.Api.PostAsync("/api/auth/signup", new { username = $"list{tag}{i}", password = "long-enough-1", first_name = "Lister" })).Is(HttpStatusCode.Created);
        }

        var page = (await fx.Api.GetAsync($"/api/users?search=list{tag}&limit=2", admin)).Is(HttpStatusCode.OK);
        Assert.Equal(2, page.Array.Count);
        Assert.Equal("3", page.Header("X-Total-Count"));
        Assert.Contains("rel=\"next\"", page.Header("Link"), StringComparison.Ordinal);
        Assert.Contains("offset=2", page.Header("Link"), StringComparison.Ordinal);

        var next = (await fx.Api.GetAsync($"/api/users?search=list{tag}&limit=2&offset=2", admin)).Is(HttpStatusCode.OK);
        Assert.Single(next.Array);
        Assert.Contains("rel=\"prev\"", next.Header("Link"), StringComparison.Ordinal);

        (await fx.Api.GetAsync($"/api/users?role=boss", admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        (await fx.Api.GetAsync($"/api/users?limit=501", admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        var admins = (await fx.Api.GetAsync("/api/users?role=admin&limit=500", admin)).Is(HttpStatusCode.OK);
        Assert.All(admins.Array, u => Assert.Equal("admin", u!["role"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Users_cannot_list_or_create_users()
    {
        var user = await fx.NewUserAsync();
        (await fx.Api.GetAsync("/api/users", user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PostAsync("/api/users", new { username = "x1234567", password = "long-enough-1" }, user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.GetAsync("/api/users")).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
    }

    [Fact]
    public async Task If_match_with_a_stale_etag_is_412_and_changes_nothing()
    {
        var user = await fx.NewUserAsync();
        var etag = (await fx.Api.GetAsync("/api/users/me", user.Token)).Is(HttpStatusCode.OK).Header("ETag")!;
        Assert.Matches("^\"[0-9]+\"$", etag);

        var changed = (await fx.Api.PatchAsync("/api/users/me", new { first_name = "One" }, user.Token, new Dictionary<string, string> { ["If-Match"] = etag }))
            .Is(HttpStatusCode.OK);
        Assert.NotEqual(etag, changed.Header("ETag"));

        (await fx.Api.PatchAsync("/api/users/me", new { first_name = "Two" }, user.Token, new Dictionary<string, string> { ["If-Match"] = etag }))
            .IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        var me = (await fx.Api.GetAsync("/api/users/me", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal("One", me.Body!["first_name"]!.GetValue<string>());
    }
}

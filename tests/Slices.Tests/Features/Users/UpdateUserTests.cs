using System.Net;
using Slices.Tests.Features.Trainings;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Users;

// An admin cannot lock themselves out through PUT/PATCH any more than through DELETE; a user's own update never
// changes memberships.
public sealed class UpdateUserTests(SlicesFixture fx)
{
    [Theory]
    [InlineData(false, "is_active", "false", "cannot_deactivate_self")]
    [InlineData(false, "role", "\"user\"", "cannot_demote_self")]
    [InlineData(true, "is_active", "false", "cannot_deactivate_self")]
    [InlineData(true, "role", "\"user\"", "cannot_demote_self")]
    public async Task An_admin_patching_themselves_out_of_access_is_409_and_changes_nothing(bool viaMe, string field, string value, string code)
    {
        var admin = await NewAdminAsync();
        var url = viaMe ? "/api/users/me" : $"/api/users/{admin.Username}";
        var before = (await fx.Api.GetAsync($"/api/users/{admin.Username}", admin.Token)).Is(HttpStatusCode.OK);

        var reply = (await fx.Api.PatchAsync(url, $$"""{"first_name":"Changed","{{field}}":{{value}}}""", admin.Token))
            .IsProblem(HttpStatusCode.Conflict, code);

        Assert.Contains("own", reply.Body!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        await AssertUnchangedAsync(admin, before);
    }

    [Theory]
    [InlineData("admin", false, "cannot_deactivate_self")]
    [InlineData("user", true, "cannot_demote_self")]
    [InlineData("user", false, "cannot_deactivate_self")]
    public async Task An_admin_replacing_their_own_profile_out_of_access_is_409_and_changes_nothing(string role, bool isActive, string code)
    {
        var admin = await NewAdminAsync();
        var before = (await fx.Api.GetAsync($"/api/users/{admin.Username}", admin.Token)).Is(HttpStatusCode.OK);

        (await fx.Api.PutAsync($"/api/users/{admin.Username}", Profile(admin, "Changed", role, isActive), admin.Token))
            .IsProblem(HttpStatusCode.Conflict, code);

        await AssertUnchangedAsync(admin, before);
    }

    [Fact]
    public async Task A_stale_If_Match_is_412_before_the_self_lockout_409()
    {
        var admin = await NewAdminAsync();
        var url = $"/api/users/{admin.Username}";
        var stale = (await fx.Api.GetAsync(url, admin.Token)).Is(HttpStatusCode.OK).Header("ETag")!;
        var current = (await fx.Api.PatchAsync(url, new { first_name = "Moved" }, admin.Token)).Is(HttpStatusCode.OK).Header("ETag")!;
        Dictionary<string, string> IfMatch(string etag) => new() { ["If-Match"] = etag };

        (await fx.Api.DeleteAsync(url, admin.Token, IfMatch(stale))).IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        (await fx.Api.PatchAsync(url, new { is_active = false }, admin.Token, IfMatch(stale))).IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        (await fx.Api.PutAsync(url, Profile(admin, "Moved", "user", true), admin.Token, IfMatch(stale))).IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");

        // With the current version the request reaches the lockout rule.
        (await fx.Api.DeleteAsync(url, admin.Token, IfMatch(current))).IsProblem(HttpStatusCode.Conflict, "cannot_deactivate_self");
        (await fx.Api.PatchAsync(url, new { role = "user" }, admin.Token, IfMatch(current))).IsProblem(HttpStatusCode.Conflict, "cannot_demote_self");
    }

    [Fact]
    public async Task An_admin_still_changes_their_own_other_fields()
    {
        var admin = await NewAdminAsync();

        var patched = (await fx.Api.PatchAsync($"/api/users/{admin.Username}", new { first_name = "Ada", role = "admin", is_active = true }, admin.Token))
            .Is(HttpStatusCode.OK);
        Assert.Equal("Ada", patched.Body!["first_name"]!.GetValue<string>());
        var replaced = (await fx.Api.PutAsync($"/api/users/{admin.Username}", Profile(admin, "Grace", "admin", true), admin.Token))
            .Is(HttpStatusCode.OK);
        Assert.Equal("Grace", replaced.Body!["first_name"]!.GetValue<string>());
        Assert.Equal("admin", replaced.Body["role"]!.GetValue<string>());
        Assert.True(replaced.Body["is_active"]!.GetValue<bool>());

        (await fx.Api.GetAsync("/api/users?limit=1", admin.Token)).Is(HttpStatusCode.OK);
    }

    [Fact]
    public async Task An_admin_still_demotes_and_deactivates_another_admin_by_put()
    {
        var (admin, other) = (await NewAdminAsync(), await NewAdminAsync());

        var replaced = (await fx.Api.PutAsync($"/api/users/{other.Username}", Profile(other, "Former", "user", false), admin.Token))
            .Is(HttpStatusCode.OK);

        Assert.Equal("user", replaced.Body!["role"]!.GetValue<string>());
        Assert.False(replaced.Body["is_active"]!.GetValue<bool>());
        (await fx.Api.GetAsync("/api/users/me", other.Token)).IsProblem(HttpStatusCode.Unauthorized, "invalid_token");
    }

    // A user cannot change their groups, so their PATCH leaves the memberships as they stand when it writes. Before, it
    // wrote back the groups it had read: alice's PATCH read [home] and waited for `home` (held here, it took the group's
    // lock), an admin added her to `club` meanwhile, and the PATCH took her out of `club` again.
    [Fact]
    public async Task A_users_own_update_keeps_a_group_an_admin_adds_meanwhile()
    {
        var alice = await fx.NewUserAsync();
        var (home, club) = (await fx.NewGroupAsync(alice), await fx.NewGroupAsync());
        await using var held = await fx.LockRowsAsync("SELECT id FROM groups WHERE id = $1 FOR UPDATE", home);

        var update = fx.Api.PatchAsync("/api/users/me", new { first_name = "Alice" }, alice.Token);
        await fx.UntilWaitingAsync(held.Pid, 1, update);
        (await fx.Api.PostAsync($"/api/groups/{club}/users", new { user = alice.Id }, await fx.AdminTokenAsync())).Is(HttpStatusCode.Created);
        await held.ReleaseAsync();

        Assert.Equal("Alice", (await update).Is(HttpStatusCode.OK).Body!["first_name"]!.GetValue<string>());
        Assert.Equal([home, club], (await fx.Api.GetAsync("/api/users/me", alice.Token)).Body!["groups"].Longs());
    }

    // A fresh admin per test: the fixture's admin is shared, and a test that took its access would break the others.
    private async Task<TestUser> NewAdminAsync()
    {
        var username = $"self_{Guid.NewGuid():N}"[..24];
        (await fx.Api.PostAsync("/api/users", new { username, password = "long-enough-1", role = "admin" }, await fx.AdminTokenAsync()))
            .Is(HttpStatusCode.Created);
        return await fx.Api.LogInAsync(username, "long-enough-1");
    }

    private static object Profile(TestUser user, string firstName, string role, bool isActive) => new
    {
        username = user.Username,
        email = (string?)null,
        phone_number = (string?)null,
        first_name = firstName,
        last_name = "",
        third_name = "",
        birth_date = (string?)null,
        role,
        groups = Array.Empty<long>(),
        is_active = isActive,
    };

    // Same row version, same role, still active, first name untouched, and the session still works as an admin's.
    private async Task AssertUnchangedAsync(TestUser admin, Reply before)
    {
        var after = (await fx.Api.GetAsync($"/api/users/{admin.Username}", admin.Token)).Is(HttpStatusCode.OK);
        Assert.Equal(before.Header("ETag"), after.Header("ETag"));
        Assert.Equal("admin", after.Body!["role"]!.GetValue<string>());
        Assert.True(after.Body["is_active"]!.GetValue<bool>());
        Assert.Equal(string.Empty, after.Body["first_name"]!.GetValue<string>());
        (await fx.Api.GetAsync("/api/users?limit=1", admin.Token)).Is(HttpStatusCode.OK);
    }
}

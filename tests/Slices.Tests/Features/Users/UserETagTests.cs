using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using Slices.Tests.Features.Trainings;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Users;

// A profile's ETag covers its `groups`, however the membership changes (db/0013).
public sealed class UserETagTests(SlicesFixture fx)
{
    [Fact]
    public async Task Joining_a_group_through_the_group_routes_moves_the_users_etag()
    {
        var (admin, user, group) = (await fx.AdminTokenAsync(), await fx.NewUserAsync(), await fx.NewGroupAsync());
        var before = await GetAsync(user);

        await fx.AddMemberAsync(group, user);

        var after = (await fx.Api.GetAsync($"/api/users/{user.Username}", admin, IfNoneMatch(before))).Is(HttpStatusCode.OK);
        Assert.Equal([group], after.Body!["groups"].Longs());
        Assert.NotEqual(before.Header("ETag"), after.Header("ETag"));
        await AssertStalePutIsRefusedAsync(user, before, [group]);
    }

    [Fact]
    public async Task Leaving_a_group_through_the_group_routes_moves_the_users_etag()
    {
        var (admin, user) = (await fx.AdminTokenAsync(), await fx.NewUserAsync());
        var group = await fx.NewGroupAsync(user);
        var before = await GetAsync(user);

        (await fx.Api.DeleteAsync($"/api/groups/{group}/users/{user.Id}", admin)).Is(HttpStatusCode.NoContent);

        var after = (await fx.Api.GetAsync($"/api/users/{user.Username}", admin, IfNoneMatch(before))).Is(HttpStatusCode.OK);
        Assert.Empty(after.Body!["groups"].Longs());
        await AssertStalePutIsRefusedAsync(user, before, []);
    }

    [Fact]
    public async Task Deleting_a_group_moves_the_etag_of_every_member_and_no_one_elses()
    {
        var (admin, alice, bob, carol) = (await fx.AdminTokenAsync(), await fx.NewUserAsync(), await fx.NewUserAsync(), await fx.NewUserAsync());
        var kept = await fx.NewGroupAsync(alice, carol);
        var deleted = await fx.NewGroupAsync(alice, bob);
        var (aliceBefore, bobBefore, carolBefore) = (await GetAsync(alice), await GetAsync(bob), await GetAsync(carol));

        (await fx.Api.DeleteAsync($"/api/groups/{deleted}", admin)).Is(HttpStatusCode.NoContent);

        var aliceAfter = (await fx.Api.GetAsync($"/api/users/{alice.Username}", admin, IfNoneMatch(aliceBefore))).Is(HttpStatusCode.OK);
        Assert.Equal([kept], aliceAfter.Body!["groups"].Longs());
        var bobAfter = (await fx.Api.GetAsync($"/api/users/{bob.Username}", admin, IfNoneMatch(bobBefore))).Is(HttpStatusCode.OK);
        Assert.Empty(bobAfter.Body!["groups"].Longs());
        (await fx.Api.GetAsync($"/api/users/{carol.Username}", admin, IfNoneMatch(carolBefore))).Is(HttpStatusCode.NotModified);
        await AssertStalePutIsRefusedAsync(bob, bobBefore, []);
    }

    [Fact]
    public async Task Changing_groups_by_user_patch_moves_only_that_users_etag()
    {
        var (admin, alice, bob) = (await fx.AdminTokenAsync(), await fx.NewUserAsync(), await fx.NewUserAsync());
        var group = await fx.NewGroupAsync(bob);
        var (aliceBefore, bobBefore) = (await GetAsync(alice), await GetAsync(bob));

        var patched = (await fx.Api.PatchAsync($"/api/users/{alice.Username}", new { groups = new[] { group } }, admin, IfMatch(aliceBefore)))
            .Is(HttpStatusCode.OK);

        Assert.Equal([group], patched.Body!["groups"].Longs());
        Assert.NotEqual(aliceBefore.Header("ETag"), patched.Header("ETag"));
        (await fx.Api.GetAsync($"/api/users/{alice.Username}", admin, IfNoneMatch(patched))).Is(HttpStatusCode.NotModified);
        (await fx.Api.GetAsync($"/api/users/{bob.Username}", admin, IfNoneMatch(bobBefore))).Is(HttpStatusCode.NotModified);
    }

    // Membership is not access: touching the user row for the ETag must not announce `user_changed`, which makes every
    // instance drop that user's cached sessions. Notifications arrive in commit order, so once the role change made
    // after the membership change has been heard, a notification for the member would have been heard before it.
    [Fact]
    public async Task Membership_changes_do_not_announce_a_user_change_or_end_sessions()
    {
        var (admin, member, demoted) = (await fx.AdminTokenAsync(), await fx.NewUserAsync(), await fx.NewUserAsync());
        var heard = new List<string>();
        await using var listener = new NpgsqlConnection(fx.Database.ConnectionString);
        await listener.OpenAsync(TestContext.Current.CancellationToken);
        listener.Notification += (_, e) => heard.Add(e.Payload);
        await using (var listen = new NpgsqlCommand("LISTEN user_changed", listener))
        {
            await listen.ExecuteNonQueryAsync(TestContext.Current.CancellationToken);
        }

        var group = await fx.NewGroupAsync(member);
        (await fx.Api.DeleteAsync($"/api/groups/{group}/users/{member.Id}", admin)).Is(HttpStatusCode.NoContent);
        await fx.AddMemberAsync(group, member);
        (await fx.Api.DeleteAsync($"/api/groups/{group}", admin)).Is(HttpStatusCode.NoContent);
        (await fx.Api.PatchAsync($"/api/users/{demoted.Username}", new { is_active = false }, admin)).Is(HttpStatusCode.OK);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        while (!heard.Contains(demoted.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            await listener.WaitAsync(timeout.Token);
        }

        Assert.DoesNotContain(member.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), heard);
        (await fx.Api.GetAsync("/api/users/me", member.Token)).Is(HttpStatusCode.OK);
    }

    // The trigger makes every membership write lock the member's users row. A profile's PUT locks it before its
    // membership writes; the member routes and group deletion do the same (TrainingGroups.LockMember), or writers
    // racing over one user and group wait for each other in opposite orders. Without that order this race deadlocked
    // dozens of times, and an add route that lost was a 500. On a database of its own, to count its deadlocks.
    [Fact]
    public async Task Membership_writes_racing_over_the_same_users_and_groups_never_deadlock()
    {
        var ct = TestContext.Current.CancellationToken;
        var database = await fx.Database.CreateDatabaseAsync($"members_{Guid.NewGuid():N}");
        var replies = new List<Reply>();
        await using (var host = await SlicesFixture.StartHostAsync(database))
        {
            using var api = new ApiClient(host.Server.CreateClient());
            var admin = (await api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;
            for (var round = 0; round < 5; round++)
            {
                var users = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => api.SignUpAsync()));
                var groups = new long[3];
                for (var g = 0; g < groups.Length; g++)
                {
                    groups[g] = (await api.PostAsync("/api/groups", new { name = $"race {round}.{g}" }, admin)).Is(HttpStatusCode.Created).Id;
                }

                using var start = new SemaphoreSlim(0);
                var calls = Enumerable.Range(0, 37).Select(async i =>
                {
                    await start.WaitAsync(ct);
                    var (user, group, other) = (users[i % 3], groups[i / 3 % 3], groups[(i + 1) % 3]);
                    return (i / 9) switch
                    {
                        0 => await api.PatchAsync($"/api/users/{user.Username}", new { groups = new[] { group, other } }, admin),
                        1 => await api.PostAsync($"/api/groups/{group}/users", new { user = user.Id }, admin),
                        2 => await api.DeleteAsync($"/api/groups/{group}/users/{user.Id}", admin),
                        3 => await api.PatchAsync($"/api/users/{user.Username}", new { groups = Array.Empty<long>() }, admin),
                        _ => await api.DeleteAsync($"/api/groups/{groups[2]}", admin),
                    };
                }).ToArray();
                start.Release(calls.Length);
                replies.AddRange(await Task.WhenAll(calls));
            }
        }

        Assert.All(replies, r => Assert.True(
            r.Status is HttpStatusCode.OK or HttpStatusCode.Created or HttpStatusCode.NoContent or HttpStatusCode.NotFound
            || r.ProblemCode is "already_member" or "unknown_group",
            $"{(int)r.Status} {r.Body?.ToJsonString()}"));
        Assert.Equal(0, await TestDatabase.DeadlocksAsync(database, ct));
    }

    private async Task<Reply> GetAsync(TestUser user)
    {
        var reply = (await fx.Api.GetAsync($"/api/users/{user.Username}", await fx.AdminTokenAsync())).Is(HttpStatusCode.OK);
        Assert.Matches("^\"[0-9]+\"$", reply.Header("ETag"));
        return reply;
    }

    // A PUT built from the stale read, under its ETag, must not undo the membership change.
    private async Task AssertStalePutIsRefusedAsync(TestUser user, Reply stale, long[] groupsNow)
    {
        var admin = await fx.AdminTokenAsync();
        var body = JsonNode.Parse(stale.Body!.ToJsonString())!.AsObject();
        body.Remove("id");
        body.Remove("created_at");
        (await fx.Api.PutAsync($"/api/users/{user.Username}", body, admin, IfMatch(stale))).IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        Assert.Equal(groupsNow, (await GetAsync(user)).Body!["groups"].Longs());
    }

    private static Dictionary<string, string> IfNoneMatch(Reply read) => new() { ["If-None-Match"] = read.Header("ETag")! };

    private static Dictionary<string, string> IfMatch(Reply read) => new() { ["If-Match"] = read.Header("ETag")! };
}

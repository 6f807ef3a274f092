using System.Globalization;
using System.Net;
using Npgsql;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Trainings;

// An upcoming training's places belong to members of its group, whichever write changes the membership or the
// training's group (db/0014). Past enrolments and every attendance record stay as history.
public sealed class EnrolmentsFollowMembershipTests(SlicesFixture fx)
{
    [Fact]
    public async Task Taking_a_group_out_of_a_users_groups_gives_up_their_upcoming_places_in_its_trainings()
    {
        var (admin, alice, bob, carol) = (await fx.AdminTokenAsync(), await fx.NewUserAsync(), await fx.NewUserAsync(), await fx.NewUserAsync());
        var group = await fx.NewGroupAsync(alice, bob, carol);
        var other = await fx.NewGroupAsync(alice);
        var past = await fx.NewTrainingAsync(group, "2020-02-10");
        var full = await fx.NewTrainingAsync(group, "2031-09-01", capacity: 2);
        var elsewhere = await fx.NewTrainingAsync(other, "2031-09-01");
        foreach (var training in new[] { past, full, elsewhere })
        {
            (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, alice.Token)).Is(HttpStatusCode.OK);
        }

        (await fx.Api.PostAsync($"/api/trainings/{full}/enroll", null, bob.Token)).Is(HttpStatusCode.OK);
        (await fx.Api.PostAsync($"/api/trainings/{full}/enroll", null, carol.Token)).IsProblem(HttpStatusCode.Conflict, "training_full");
        var marked = await fx.MarkAsync(full, alice, "excused");

        var patched = (await fx.Api.PatchAsync($"/api/users/{alice.Username}", new { groups = new[] { other } }, admin)).Is(HttpStatusCode.OK);

        Assert.Equal([other], patched.Body!["groups"].Longs());
        Assert.Equal([bob.Id], (await fx.Api.GetAsync($"/api/trainings/{full}", admin)).Body!["users"].Longs());
        Assert.Equal([alice.Id], (await fx.Api.GetAsync($"/api/trainings/{past}", admin)).Body!["users"].Longs());
        Assert.Equal([alice.Id], (await fx.Api.GetAsync($"/api/trainings/{elsewhere}", admin)).Body!["users"].Longs());
        // The place is free again for the counter behind the capacity check too.
        var joined = (await fx.Api.PostAsync($"/api/trainings/{full}/enroll", null, carol.Token)).Is(HttpStatusCode.OK);
        Assert.Equal([bob.Id, carol.Id], joined.Body!["users"].Longs().Order());
        var attendance = (await fx.Api.GetAsync($"/api/attendances/{marked}", admin)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal("excused", attendance["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Moving_a_training_to_another_group_gives_up_the_places_of_users_outside_that_group()
    {
        var (admin, alice, bob, carol) = (await fx.AdminTokenAsync(), await fx.NewUserAsync(), await fx.NewUserAsync(), await fx.NewUserAsync());
        var from = await fx.NewGroupAsync(alice, bob);
        var to = await fx.NewGroupAsync(bob, carol);
        var training = await fx.NewTrainingAsync(from, "2031-09-02", capacity: 2);
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, alice.Token)).Is(HttpStatusCode.OK);
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, bob.Token)).Is(HttpStatusCode.OK);
        var marked = await fx.MarkAsync(training, alice, "excused");

        var moved = (await fx.Api.PatchAsync($"/api/trainings/{training}", new { group = to }, admin)).Is(HttpStatusCode.OK);

        Assert.Equal(to, moved.Body!["group"]!.GetValue<long>());
        Assert.Equal([bob.Id], moved.Body["users"].Longs());
        var joined = (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, carol.Token)).Is(HttpStatusCode.OK);
        Assert.Equal([bob.Id, carol.Id], joined.Body!["users"].Longs().Order());
        Assert.Equal("excused", (await fx.Api.GetAsync($"/api/attendances/{marked}", admin)).Is(HttpStatusCode.OK).Body!["status"]!.GetValue<string>());
        (await fx.Api.GetAsync($"/api/trainings/{training}", alice.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    // Guard: the old code kept these too. A past training's enrolments are history, whatever group it is filed under.
    [Fact]
    public async Task Moving_a_past_training_to_another_group_keeps_its_enrolments()
    {
        var (admin, alice) = (await fx.AdminTokenAsync(), await fx.NewUserAsync());
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(alice), "2020-02-11");
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, alice.Token)).Is(HttpStatusCode.OK);

        var moved = (await fx.Api.PutAsync($"/api/trainings/{training}",
            new { date = "2020-02-11", start_time = "18:00", end_time = "19:30", price = 10, group = await fx.NewGroupAsync() }, admin)).Is(HttpStatusCode.OK);

        Assert.Equal([alice.Id], moved.Body!["users"].Longs());
    }

    // A past enrolment of someone who has since left the group is history only while the training lies in the past.
    [Fact]
    public async Task Rescheduling_a_past_training_into_the_future_gives_up_the_places_of_former_members()
    {
        var (admin, alice, bob) = (await fx.AdminTokenAsync(), await fx.NewUserAsync(), await fx.NewUserAsync());
        var group = await fx.NewGroupAsync(alice, bob);
        var training = await fx.NewTrainingAsync(group, "2020-02-12");
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, alice.Token)).Is(HttpStatusCode.OK);
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, bob.Token)).Is(HttpStatusCode.OK);
        (await fx.Api.DeleteAsync($"/api/groups/{group}/users/{alice.Id}", admin)).Is(HttpStatusCode.NoContent);
        Assert.Equal([alice.Id, bob.Id], (await fx.Api.GetAsync($"/api/trainings/{training}", admin)).Body!["users"].Longs());

        var rescheduled = (await fx.Api.PatchAsync($"/api/trainings/{training}", new { date = "2031-09-03" }, admin)).Is(HttpStatusCode.OK);

        Assert.Equal([bob.Id], rescheduled.Body!["users"].Longs());
    }

    // The test holds the training's row, so the enrolment waits on it with its membership checked (before the fix) or
    // about to be (now); then the member is removed from the group. Before the fix the removal finished meanwhile, blind
    // to the uncommitted place, and the enrolment committed it afterwards: a place held outside the group.
    [Fact]
    public async Task An_enrolment_in_flight_while_its_user_leaves_the_group_does_not_keep_the_place()
    {
        var ct = TestContext.Current.CancellationToken;
        var (admin, alice) = (await fx.AdminTokenAsync(), await fx.NewUserAsync());
        var group = await fx.NewGroupAsync(alice);
        var training = await fx.NewTrainingAsync(group, "2031-09-04");
        await using var holder = await fx.LockRowsAsync("SELECT id FROM trainings WHERE id = $1 FOR NO KEY UPDATE", training);

        var enrol = fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, alice.Token);
        await fx.UntilWaitingAsync(holder.Pid, 1, enrol);
        var removal = fx.Api.DeleteAsync($"/api/groups/{group}/users/{alice.Id}", admin);
        await fx.UntilWaitingAsync(holder.Pid, 2, removal);
        await holder.ReleaseAsync();

        (await removal).Is(HttpStatusCode.NoContent);
        // Whichever got the training's row first: a place given up at once, or no place for a non-member.
        var enrolled = await enrol;
        Assert.True(enrolled.Status == HttpStatusCode.OK || enrolled.ProblemCode == "not_found", $"{(int)enrolled.Status} {enrolled.Body?.ToJsonString()}");
        Assert.Empty((await fx.Api.GetAsync($"/api/trainings/{training}", admin)).Body!["users"]!.AsArray());
    }

    // A profile's PUT/PATCH works out the groups it leaves under the user's row lock, so that it holds each for share
    // before that lock, as every membership removal does. The test stages what that prevents. The admin's PATCH reads
    // alice's groups ([home]) and then waits for `home` (held); alice joins `club` meanwhile; the PATCH goes on, takes
    // her out of `club` and waits again before its commit (her session row is held: the PATCH deactivates her); the
    // training moves from `home` into `club` meanwhile. Before the fix the PATCH held no lock on `club`: the move finished
    // while alice was still a member for everyone else and kept her place, and the PATCH committed after it. Now the
    // move waits for the PATCH, and then finds her outside the group.
    [Fact]
    public async Task A_group_joined_while_a_profile_update_is_on_its_way_is_left_under_its_lock()
    {
        var (admin, alice) = (await fx.AdminTokenAsync(), await fx.NewUserAsync());
        var home = await fx.NewGroupAsync(alice);
        var club = await fx.NewGroupAsync();
        var training = await fx.NewTrainingAsync(home, "2031-09-05");
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, alice.Token)).Is(HttpStatusCode.OK);
        await using var group = await fx.LockRowsAsync("SELECT id FROM groups WHERE id = $1 FOR UPDATE", home);
        await using var sessions = await fx.LockRowsAsync("SELECT id FROM sessions WHERE user_id = $1 FOR UPDATE", alice.Id);

        var update = fx.Api.PatchAsync($"/api/users/{alice.Username}", new { groups = new[] { home }, is_active = false }, admin);
        await fx.UntilWaitingAsync(group.Pid, 1, update);
        (await fx.Api.PostAsync($"/api/groups/{club}/users", new { user = alice.Id }, admin)).Is(HttpStatusCode.Created);
        await group.ReleaseAsync();
        await fx.UntilWaitingAsync(sessions.Pid, 1, update);
        var move = fx.Api.PatchAsync($"/api/trainings/{training}", new { group = club }, admin);
        await fx.UntilWaitingAsync(sessions.Pid, 2, move);
        await sessions.ReleaseAsync();

        Assert.Equal([home], (await update).Is(HttpStatusCode.OK).Body!["groups"].Longs());
        Assert.Equal(club, (await move).Is(HttpStatusCode.OK).Body!["group"]!.GetValue<long>());
        Assert.Empty((await fx.Api.GetAsync($"/api/trainings/{training}", admin)).Body!["users"]!.AsArray());
    }

    // The group lock of a training's update is for db/0014's trigger, which fires only when the group or the date
    // changes; any other update does not wait for a membership removal holding the group (here: both groups, for share).
    [Theory]
    [InlineData("price", false)]
    [InlineData("capacity", false)]
    [InlineData("date", true)]
    [InlineData("group", true)]
    public async Task Only_an_update_of_a_trainings_group_or_date_waits_for_a_removal_from_the_group(string member, bool waits)
    {
        var admin = await fx.AdminTokenAsync();
        var (from, to) = (await fx.NewGroupAsync(), await fx.NewGroupAsync());
        var training = await fx.NewTrainingAsync(from, "2031-09-06");
        object value = member switch { "price" => 20.25m, "capacity" => 5, "date" => "2031-09-07", _ => to };
        await using var removal = await fx.LockRowsAsync("SELECT id FROM groups WHERE id = ANY ($1) FOR SHARE", new[] { from, to });

        var update = fx.Api.PatchAsync($"/api/trainings/{training}", new Dictionary<string, object> { [member] = value }, admin);
        await fx.UntilWaitingAsync(removal.Pid, 1, update);
        Assert.Equal(waits, !update.IsCompleted);
        await removal.ReleaseAsync();

        var updated = (await update).Is(HttpStatusCode.OK).Body!;
        Assert.Equal(Convert.ToString(value, CultureInfo.InvariantCulture), updated[member]!.ToJsonString().Trim('"'));
    }

    // Every write that touches places or memberships, racing over the same users, groups and trainings: no deadlock
    // (each locks groups, users, memberships, then trainings in id order, then enrolments), and afterwards no one holds a
    // place in an upcoming training of a group they are not in. On a database of its own, to count its deadlocks.
    [Fact]
    public async Task Enrolments_moves_and_membership_changes_racing_keep_places_with_members_and_never_deadlock()
    {
        var ct = TestContext.Current.CancellationToken;
        var database = await fx.Database.CreateDatabaseAsync($"places_{Guid.NewGuid():N}");
        var replies = new List<Reply>();
        long strays;
        await using (var host = await SlicesFixture.StartHostAsync(database))
        {
            using var api = new ApiClient(host.Server.CreateClient());
            var admin = (await api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;
            for (var round = 0; round < 4; round++)
            {
                var users = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => api.SignUpAsync()));
                var groups = new long[2];
                for (var g = 0; g < groups.Length; g++)
                {
                    groups[g] = (await api.PostAsync("/api/groups", new { name = $"places {round}.{g}" }, admin)).Is(HttpStatusCode.Created).Id;
                    foreach (var user in users)
                    {
                        (await api.PostAsync($"/api/groups/{groups[g]}/users", new { user = user.Id }, admin)).Is(HttpStatusCode.Created);
                    }
                }

                var trainings = new long[3];
                for (var t = 0; t < trainings.Length; t++)
                {
                    trainings[t] = (await api.PostAsync("/api/trainings",
                        new { date = "2031-10-01", start_time = "18:00", end_time = "19:00", price = 1, group = groups[t % 2] }, admin)).Is(HttpStatusCode.Created).Id;
                }

                using var start = new SemaphoreSlim(0);
                var calls = Enumerable.Range(0, 42).Select(async i =>
                {
                    await start.WaitAsync(ct);
                    var (user, group, training) = (users[i % 3], groups[i % 2], trainings[i / 2 % 3]);
                    return (i / 6) switch
                    {
                        0 or 1 => await api.PostAsync($"/api/trainings/{training}/enroll", null, user.Token),
                        2 => await api.DeleteAsync($"/api/trainings/{training}/enroll", user.Token),
                        3 => await api.PatchAsync($"/api/trainings/{training}", new { group }, admin),
                        4 => await api.DeleteAsync($"/api/groups/{group}/users/{user.Id}", admin),
                        5 => await api.PatchAsync($"/api/users/{user.Username}", new { groups = new[] { group } }, admin),
                        _ => await api.PostAsync($"/api/groups/{group}/users", new { user = user.Id }, admin),
                    };
                }).ToArray();
                start.Release(calls.Length);
                replies.AddRange(await Task.WhenAll(calls));
            }

            await using var conn = new NpgsqlConnection(database);
            await conn.OpenAsync(ct);
            await using var check = new NpgsqlCommand("""
                SELECT count(*) FROM training_enrollments e JOIN trainings t ON t.id = e.training_id
                WHERE NOT EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = t.group_id AND gm.user_id = e.user_id)
                """, conn);
            strays = (long)(await check.ExecuteScalarAsync(ct))!;
        }

        Assert.Equal(0, strays);
        // not_a_group_member: a membership that arrived between the enrolment's insert and its visibility check.
        Assert.All(replies, r => Assert.True(
            r.Status is HttpStatusCode.OK or HttpStatusCode.Created or HttpStatusCode.NoContent or HttpStatusCode.NotFound
            || r.ProblemCode is "already_enrolled" or "already_member" or "not_a_group_member",
            $"{(int)r.Status} {r.Body?.ToJsonString()}"));
        Assert.Equal(0, await TestDatabase.DeadlocksAsync(database, ct));
    }

    // db/0017 gives up once the places that writes from before 0014's triggers left with users outside the group. The
    // left-behind place is made as those writes made it: the membership deleted with this session's triggers off.
    [Fact]
    public async Task The_cleanup_migration_gives_up_upcoming_places_left_outside_the_group_and_keeps_the_rest()
    {
        var ct = TestContext.Current.CancellationToken;
        var (admin, alice, bob) = (await fx.AdminTokenAsync(), await fx.NewUserAsync(), await fx.NewUserAsync());
        var group = await fx.NewGroupAsync(alice, bob);
        var upcoming = await fx.NewTrainingAsync(group, "2031-09-03");
        var past = await fx.NewTrainingAsync(group, "2020-02-12");
        foreach (var (enrolIn, user) in new[] { (upcoming, alice), (upcoming, bob), (past, alice) })
        {
            (await fx.Api.PostAsync($"/api/trainings/{enrolIn}/enroll", null, user.Token)).Is(HttpStatusCode.OK);
        }

        await using var conn = new NpgsqlConnection(fx.Database.ConnectionString);
        await conn.OpenAsync(ct);
        await using (var old = new NpgsqlBatch(conn)
        {
            BatchCommands =
            {
                new("SET session_replication_role = replica"),
                new("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2") { Parameters = { new() { Value = group }, new() { Value = alice.Id } } },
                new("SET session_replication_role = origin"),
            },
        })
        {
            await old.ExecuteNonQueryAsync(ct);
        }

        Assert.Equal([alice.Id, bob.Id], (await fx.Api.GetAsync($"/api/trainings/{upcoming}", admin)).Body!["users"].Longs().Order());

        await using (var stream = typeof(Slices.Api.Common.Data.Migrations).Assembly.GetManifestResourceStream("db.0017_give_up_places_left_outside_group.sql")!)
        using (var reader = new StreamReader(stream))
        {
            await using var cleanup = new NpgsqlCommand(await reader.ReadToEndAsync(ct), conn);
            await cleanup.ExecuteNonQueryAsync(ct);
        }

        var training = (await fx.Api.GetAsync($"/api/trainings/{upcoming}", admin)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal([bob.Id], training["users"].Longs());
        Assert.Equal([alice.Id], (await fx.Api.GetAsync($"/api/trainings/{past}", admin)).Body!["users"].Longs());
    }
}

using System.Net;
using Dapper;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Waitlists.Service;

namespace Slices.Tests.Features.Waitlists;

// The training waitlist routes on the shared host, whose workers make the offers.
public sealed class TrainingWaitlistTests(SlicesFixture fx)
{
    [Fact]
    public async Task Only_a_member_joins_only_a_full_training_and_only_once()
    {
        var s = await OfAsync(fx);
        var (alice, bob, carol, outsider) = (await s.NewUserAsync(), await s.NewUserAsync(), await s.NewUserAsync(), await s.NewUserAsync());
        var training = await s.NewTrainingAsync(1, alice, bob, carol);

        (await s.JoinAsync(training, bob)).IsProblem(HttpStatusCode.Conflict, "training_not_full");
        await s.EnrolAsync(training, alice);
        (await s.JoinAsync(training, alice)).IsProblem(HttpStatusCode.Conflict, "already_enrolled");
        (await s.JoinAsync(training, outsider)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await s.Api.PostAsync($"/api/trainings/{training}/waitlist", null, s.Admin)).IsProblem(HttpStatusCode.Forbidden, "not_a_group_member");
        (await s.Api.PostAsync("/api/trainings/999999999/waitlist", null, bob.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");

        var joined = (await s.JoinAsync(training, bob)).Is(HttpStatusCode.Created);
        Assert.Equal($"/api/trainings/{training}/waitlist", joined.Header("Location"));
        Assert.Equal(training, joined.Body!["training"]!.GetValue<long>());
        Assert.Equal(bob.Id, joined.Body["user"]!.GetValue<long>());
        Assert.Equal("waiting", joined.Body["status"]!.GetValue<string>());
        Assert.Equal(1, joined.Body["position"]!.GetValue<int>());
        Assert.Null(joined.Body["hold"]);
        Assert.Null(joined.Body["offer_expires_at"]);
        Assert.True(joined.Body["created_at"]!.GetValue<DateTime>() > DateTime.UtcNow.AddMinutes(-5));
        (await s.JoinAsync(training, bob)).IsProblem(HttpStatusCode.Conflict, "already_waiting");
        Assert.Equal(2, (await s.JoinAsync(training, carol)).Is(HttpStatusCode.Created).Body!["position"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_user_holding_a_place_cannot_also_wait_for_one()
    {
        var s = await OfAsync(fx);
        var (alice, bob) = (await s.NewUserAsync(), await s.NewUserAsync());
        var training = await s.NewTrainingAsync(1, alice, bob);
        (await s.Api.PostAsync("/api/holds", new { kind = "training_place", training }, alice.Token)).Is(HttpStatusCode.Created);

        (await s.JoinAsync(training, alice)).IsProblem(HttpStatusCode.Conflict, "already_held");
        (await s.JoinAsync(training, bob)).Is(HttpStatusCode.Created);
    }

    [Fact]
    public async Task An_admin_sees_the_line_in_order_and_a_member_only_their_own_place_in_it()
    {
        var s = await OfAsync(fx);
        var (alice, bob, carol, outsider) = (await s.NewUserAsync(), await s.NewUserAsync(), await s.NewUserAsync(), await s.NewUserAsync());
        var training = await s.NewTrainingAsync(1, alice, bob, carol);
        await s.EnrolAsync(training, alice);
        await s.WaitAsync(training, bob, carol);
        var url = $"/api/trainings/{training}/waitlist";

        var all = (await s.Api.GetAsync(url, s.Admin)).Is(HttpStatusCode.OK);
        Assert.Equal([bob.Id, carol.Id], UsersIn(all));
        Assert.Equal([1, 2], Positions(all));
        var own = OnlyEntry((await s.Api.GetAsync(url, carol.Token)).Is(HttpStatusCode.OK));
        Assert.Equal((carol.Id, 2), (own["user"]!.GetValue<long>(), own["position"]!.GetValue<int>()));
        Assert.Empty((await s.Api.GetAsync(url, alice.Token)).Is(HttpStatusCode.OK).Array);
        (await s.Api.GetAsync(url, outsider.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await s.Api.GetAsync("/api/trainings/999999999/waitlist", s.Admin)).IsProblem(HttpStatusCode.NotFound, "not_found");

        // Leaving moves everyone behind up; leaving twice, or a line one is not in, is 404.
        (await s.Api.DeleteAsync(url, bob.Token)).Is(HttpStatusCode.NoContent);
        (await s.Api.DeleteAsync(url, bob.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await s.Api.DeleteAsync(url, alice.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await s.Api.DeleteAsync(url, outsider.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        var after = (await s.Api.GetAsync(url, s.Admin)).Is(HttpStatusCode.OK);
        Assert.Equal([carol.Id], UsersIn(after));
        Assert.Equal([1], Positions(after));
    }

    [Fact]
    public async Task While_people_wait_a_free_place_is_theirs_not_for_direct_enrolment_or_holds()
    {
        var s = await OfAsync(fx);
        var (bob, dave) = (await s.NewUserAsync(), await s.NewUserAsync());
        var training = await s.NewTrainingAsync(2, bob, dave);
        // Bob in line for a training with places free: nothing freed a place, so no offer is queued (test data only).
        await using (var conn = await s.OpenAsync())
        {
            await conn.ExecuteAsync(
                "INSERT INTO waitlist_entries (user_id, training_id, created_at, updated_at) VALUES (@user, @training, now(), now())", new { user = bob.Id, training });
        }

        (await s.Api.PostAsync($"/api/trainings/{training}/enroll", null, dave.Token)).IsProblem(HttpStatusCode.Conflict, "training_full");
        (await s.Api.PostAsync("/api/holds", new { kind = "training_place", training }, dave.Token)).IsProblem(HttpStatusCode.Conflict, "training_full");
        // For the same reason the training counts as full for the waitlist: Dave gets in line behind Bob.
        Assert.Equal(2, (await s.JoinAsync(training, dave)).Is(HttpStatusCode.Created).Body!["position"]!.GetValue<int>());
    }

    [Fact]
    public async Task Leaving_with_an_offer_releases_it_and_the_place_passes_to_the_next_in_line()
    {
        var s = await OfAsync(fx);
        var (alice, bob, carol) = (await s.NewUserAsync(), await s.NewUserAsync(), await s.NewUserAsync());
        var training = await s.NewTrainingAsync(1, alice, bob, carol);
        await s.EnrolAsync(training, alice);
        var bobs = (await s.JoinAsync(training, bob)).Is(HttpStatusCode.Created).Id;
        var carols = await s.WaitAsync(training, carol);

        (await s.Api.DeleteAsync($"/api/trainings/{training}/enroll", alice.Token)).Is(HttpStatusCode.NoContent);
        var offer = await s.UntilAsync(bobs, "offered");
        var mine = OnlyEntry((await s.Api.GetAsync($"/api/trainings/{training}/waitlist", bob.Token)).Is(HttpStatusCode.OK));
        Assert.Equal(("offered", offer), (mine["status"]!.GetValue<string>(), mine["hold"]!.GetValue<long>()));
        Assert.NotNull(mine["offer_expires_at"]);
        var hold = (await s.Api.GetAsync($"/api/holds/{offer}", bob.Token)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal(("training_place", "active", true), (hold["kind"]!.GetValue<string>(), hold["status"]!.GetValue<string>(), hold["offer"]!.GetValue<bool>()));
        (await s.Api.GetAsync($"/api/holds/{offer}", carol.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");

        (await s.Api.DeleteAsync($"/api/trainings/{training}/waitlist", bob.Token)).Is(HttpStatusCode.NoContent);
        Assert.Equal("released", (await s.Api.GetAsync($"/api/holds/{offer}", bob.Token)).Is(HttpStatusCode.OK).Body!["status"]!.GetValue<string>());
        Assert.Equal("left", (await s.EntryAsync(bobs)).Status);
        var carolsOffer = await s.UntilAsync(carols, "offered");
        (await s.Api.PostAsync($"/api/holds/{carolsOffer}/confirm", null, carol.Token)).Is(HttpStatusCode.Created);
        Assert.Equal("accepted", (await s.EntryAsync(carols)).Status);
        Assert.Empty((await s.Api.GetAsync($"/api/trainings/{training}/waitlist", s.Admin)).Is(HttpStatusCode.OK).Array);
    }

    [Fact]
    public async Task Releasing_an_offer_passes_it_on_and_a_member_who_left_the_group_is_passed_over()
    {
        var s = await OfAsync(fx);
        var (alice, bob, carol, dave) = (await s.NewUserAsync(), await s.NewUserAsync(), await s.NewUserAsync(), await s.NewUserAsync());
        var training = await s.NewTrainingAsync(1, alice, bob, carol, dave);
        var group = (await s.Api.GetAsync($"/api/trainings/{training}", s.Admin)).Body!["group"]!.GetValue<long>();
        await s.EnrolAsync(training, alice);
        var bobs = (await s.JoinAsync(training, bob)).Is(HttpStatusCode.Created).Id;
        var carols = (await s.JoinAsync(training, carol)).Is(HttpStatusCode.Created).Id;
        var daves = (await s.JoinAsync(training, dave)).Is(HttpStatusCode.Created).Id;
        (await s.Api.DeleteAsync($"/api/groups/{group}/users/{carol.Id}", s.Admin)).Is(HttpStatusCode.NoContent);

        (await s.Api.DeleteAsync($"/api/trainings/{training}/enroll", alice.Token)).Is(HttpStatusCode.NoContent);
        var offer = await s.UntilAsync(bobs, "offered");
        (await s.Api.DeleteAsync($"/api/holds/{offer}", bob.Token)).Is(HttpStatusCode.NoContent);

        await s.UntilAsync(daves, "offered");
        Assert.Equal("lapsed", (await s.EntryAsync(bobs)).Status);
        Assert.Equal("left", (await s.EntryAsync(carols)).Status);
    }

    [Fact]
    public async Task Two_places_freeing_at_once_go_to_the_first_two_in_line_one_each_and_never_twice()
    {
        var s = await OfAsync(fx);
        for (var round = 0; round < 3; round++)
        {
            var users = new List<Infrastructure.TestUser>();
            for (var i = 0; i < 5; i++)
            {
                users.Add(await s.NewUserAsync());
            }

            var (leaving, waiting) = (users[..2], users[2..]);
            var training = await s.NewTrainingAsync(2, [.. users]);
            await s.EnrolAsync(training, [.. leaving]);
            var entries = new List<long>();
            foreach (var user in waiting)
            {
                entries.Add((await s.JoinAsync(training, user)).Is(HttpStatusCode.Created).Id);
            }

            var left = await Task.WhenAll(leaving.Select(u => s.Api.DeleteAsync($"/api/trainings/{training}/enroll", u.Token)));
            Assert.All(left, r => r.Is(HttpStatusCode.NoContent));
            await s.UntilAsync(entries[0], "offered");
            await s.UntilAsync(entries[1], "offered");
            await s.UntilOffersSettledAsync(training);
            // A repeated offer job finds no place left to offer.
            await s.ScalarAsync<object>("SELECT waitlist_wake(@training, NULL, NULL)", new { training });
            await s.UntilOffersSettledAsync(training);

            Assert.Equal("waiting", (await s.EntryAsync(entries[2])).Status);
            await using var conn = await s.OpenAsync();
            var holders = (await conn.QueryAsync<long>(
                "SELECT user_id FROM holds WHERE training_id = @training AND status = 'active' ORDER BY user_id", new { training })).ToArray();
            Assert.Equal(waiting[..2].Select(u => u.Id).Order(), holders);
            var (enrolled, held, capacity) = await conn.QuerySingleAsync<(int, int, int)>(
                "SELECT enrolled, held, capacity FROM trainings WHERE id = @training", new { training });
            Assert.Equal((0, 2, 2), (enrolled, held, capacity));
        }
    }

    [Fact]
    public async Task Raising_the_capacity_offers_the_new_places_in_order()
    {
        var s = await OfAsync(fx);
        var (alice, bob, carol, dave) = (await s.NewUserAsync(), await s.NewUserAsync(), await s.NewUserAsync(), await s.NewUserAsync());
        var training = await s.NewTrainingAsync(1, alice, bob, carol, dave);
        await s.EnrolAsync(training, alice);
        var bobs = (await s.JoinAsync(training, bob)).Is(HttpStatusCode.Created).Id;
        var carols = (await s.JoinAsync(training, carol)).Is(HttpStatusCode.Created).Id;
        var daves = (await s.JoinAsync(training, dave)).Is(HttpStatusCode.Created).Id;

        (await s.Api.PatchAsync($"/api/trainings/{training}", new { capacity = 3 }, s.Admin)).Is(HttpStatusCode.OK);
        await s.UntilAsync(bobs, "offered");
        await s.UntilAsync(carols, "offered");
        await s.UntilOffersSettledAsync(training);
        Assert.Equal("waiting", (await s.EntryAsync(daves)).Status);
        var line = (await s.Api.GetAsync($"/api/trainings/{training}/waitlist", s.Admin)).Is(HttpStatusCode.OK);
        Assert.Equal([bob.Id, carol.Id, dave.Id], UsersIn(line));
        Assert.Equal(["offered", "offered", "waiting"], line.Array.Select(e => e!["status"]!.GetValue<string>()));
    }

    [Fact]
    public async Task The_waitlist_routes_are_in_the_openapi_document_with_their_answers()
    {
        var paths = (await fx.Api.GetAsync("/openapi/v1.json")).Is(HttpStatusCode.OK).Body!["paths"]!;
        foreach (var (path, method, name, statuses) in new[]
        {
            ("/api/trainings/{id}/waitlist", "post", "JoinTrainingWaitlist", new[] { "201", "401", "403", "404", "409" }),
            ("/api/trainings/{id}/waitlist", "delete", "LeaveTrainingWaitlist", ["204", "401", "404"]),
            ("/api/trainings/{id}/waitlist", "get", "ListTrainingWaitlist", ["200", "401", "404"]),
            ("/api/stages/{id}/waitlist", "post", "JoinStageWaitlist", ["201", "400", "401", "404", "409"]),
            ("/api/stages/{id}/waitlist/{entry}", "delete", "LeaveStageWaitlist", ["204", "401", "404"]),
            ("/api/stages/{id}/waitlist", "get", "ListStageWaitlist", ["200", "401", "404"]),
        })
        {
            var op = paths[path]?[method];
            Assert.True(op is not null, $"{method} {path} is missing");
            Assert.Equal(name, op["operationId"]!.GetValue<string>());
            Assert.Equal("Waitlists", Assert.Single(op["tags"]!.AsArray())!.GetValue<string>());
            Assert.False(string.IsNullOrEmpty(op["summary"]?.GetValue<string>()));
            Assert.Equal(statuses, op["responses"]!.AsObject().Select(r => r.Key).Order());
        }
    }
}

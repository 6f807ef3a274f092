using System.Net;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Trainings;

public sealed class EnrollInTrainingTests(SlicesFixture fx)
{
    [Fact]
    public async Task A_member_enrols_once_and_leaves()
    {
        var alice = await fx.NewUserAsync();
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(alice), "2031-08-01", capacity: 3);

        var enrolled = (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, alice.Token)).Is(HttpStatusCode.OK);
        Assert.Equal([alice.Id], enrolled.Body!["users"].Longs());
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, alice.Token)).IsProblem(HttpStatusCode.Conflict, "already_enrolled");
        Assert.Equal([alice.Id], (await fx.Api.GetAsync($"/api/trainings/{training}", alice.Token)).Body!["users"].Longs());

        (await fx.Api.DeleteAsync($"/api/trainings/{training}/enroll", alice.Token)).Is(HttpStatusCode.NoContent);
        (await fx.Api.DeleteAsync($"/api/trainings/{training}/enroll", alice.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        Assert.Empty((await fx.Api.GetAsync($"/api/trainings/{training}", alice.Token)).Body!["users"]!.AsArray());
    }

    [Fact]
    public async Task A_full_training_turns_the_next_member_away_until_a_place_is_freed()
    {
        var alice = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(alice, bob), "2031-08-02", capacity: 1);
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, alice.Token)).Is(HttpStatusCode.OK);
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, bob.Token)).IsProblem(HttpStatusCode.Conflict, "training_full");
        // Enrolled already beats full: the second request of the one who holds the place says so.
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, alice.Token)).IsProblem(HttpStatusCode.Conflict, "already_enrolled");
        (await fx.Api.DeleteAsync($"/api/trainings/{training}/enroll", alice.Token)).Is(HttpStatusCode.NoContent);
        var reply = (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, bob.Token)).Is(HttpStatusCode.OK);
        Assert.Equal([bob.Id], reply.Body!["users"].Longs());
    }

    [Fact]
    public async Task Fifteen_parallel_enrolments_into_ten_places_fill_exactly_ten()
    {
        var users = await Task.WhenAll(Enumerable.Range(0, 15).Select(_ => fx.NewUserAsync()));
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(users), "2031-08-03", capacity: 10);

        var replies = await Task.WhenAll(users.Select(u => fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, u.Token)));

        var winners = users.Where((_, i) => replies[i].Status == HttpStatusCode.OK).Select(u => u.Id).ToArray();
        Assert.Equal(10, winners.Length);
        var losers = replies.Where(r => r.Status != HttpStatusCode.OK).ToArray();
        Assert.Equal(5, losers.Length);
        Assert.All(losers, r => r.IsProblem(HttpStatusCode.Conflict, "training_full"));
        var users10 = (await fx.Api.GetAsync($"/api/trainings/{training}", await fx.AdminTokenAsync())).Is(HttpStatusCode.OK).Body!["users"].Longs();
        Assert.Equal(winners.Order(), users10);
    }

    [Fact]
    public async Task Capacity_cannot_be_lowered_below_the_users_enrolled()
    {
        var alice = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(alice, bob), "2031-08-04", capacity: 5);
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, alice.Token)).Is(HttpStatusCode.OK);
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, bob.Token)).Is(HttpStatusCode.OK);
        var admin = await fx.AdminTokenAsync();
        (await fx.Api.PatchAsync($"/api/trainings/{training}", new { capacity = 1 }, admin)).IsProblem(HttpStatusCode.Conflict, "training_full");
        Assert.Equal(2, (await fx.Api.PatchAsync($"/api/trainings/{training}", new { capacity = 2 }, admin)).Is(HttpStatusCode.OK).Body!["capacity"]!.GetValue<int>());
    }

    [Fact]
    public async Task Enrolling_changes_the_trainings_ETag()
    {
        var alice = await fx.NewUserAsync();
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(alice), "2031-08-05");
        var before = (await fx.Api.GetAsync($"/api/trainings/{training}", alice.Token)).Header("ETag")!;
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, alice.Token)).Is(HttpStatusCode.OK);
        var after = (await fx.Api.GetAsync($"/api/trainings/{training}", alice.Token, new Dictionary<string, string> { ["If-None-Match"] = before }))
            .Is(HttpStatusCode.OK);
        Assert.NotEqual(before, after.Header("ETag"));
        Assert.Equal([alice.Id], after.Body!["users"].Longs());
    }

    [Fact]
    public async Task An_admin_outside_the_group_cannot_enrol()
    {
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(), "2031-08-06");
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, await fx.AdminTokenAsync()))
            .IsProblem(HttpStatusCode.Forbidden, "not_a_group_member");
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null)).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
    }

    [Fact]
    public async Task Leaving_a_group_gives_up_upcoming_places_and_keeps_past_ones()
    {
        var alice = await fx.NewUserAsync();
        var group = await fx.NewGroupAsync(alice);
        var past = await fx.NewTrainingAsync(group, "2020-01-10");
        var upcoming = await fx.NewTrainingAsync(group, "2031-08-07", capacity: 1);
        (await fx.Api.PostAsync($"/api/trainings/{past}/enroll", null, alice.Token)).Is(HttpStatusCode.OK);
        (await fx.Api.PostAsync($"/api/trainings/{upcoming}/enroll", null, alice.Token)).Is(HttpStatusCode.OK);

        var admin = await fx.AdminTokenAsync();
        (await fx.Api.DeleteAsync($"/api/groups/{group}/users/{alice.Id}", admin)).Is(HttpStatusCode.NoContent);

        Assert.Equal([alice.Id], (await fx.Api.GetAsync($"/api/trainings/{past}", admin)).Body!["users"].Longs());
        Assert.Empty((await fx.Api.GetAsync($"/api/trainings/{upcoming}", admin)).Body!["users"]!.AsArray());
        // The freed place is really free: the counter behind the capacity check went down with it.
        var bob = await fx.NewUserAsync();
        await fx.AddMemberAsync(group, bob);
        (await fx.Api.PostAsync($"/api/trainings/{upcoming}/enroll", null, bob.Token)).Is(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_training_with_enrolments_can_be_deleted()
    {
        var alice = await fx.NewUserAsync();
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(alice), "2031-08-08", capacity: 2);
        (await fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, alice.Token)).Is(HttpStatusCode.OK);
        (await fx.Api.DeleteAsync($"/api/trainings/{training}", await fx.AdminTokenAsync())).Is(HttpStatusCode.NoContent);
        (await fx.Api.GetAsync($"/api/trainings/{training}", alice.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.DeleteAsync($"/api/trainings/{training}/enroll", alice.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }
}

using System.Net;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Trainings;

public sealed class TrainingsTests(SlicesFixture fx)
{
    [Fact]
    public async Task Admin_schedules_a_training_and_a_member_reads_it()
    {
        var member = await fx.NewUserAsync();
        var group = await fx.NewGroupAsync(member);
        var created = (await fx.Api.PostAsync("/api/trainings",
                new { date = "2031-04-01", start_time = "18:00", end_time = "19:30", price = 12.50m, group, capacity = 8 }, await fx.AdminTokenAsync()))
            .Is(HttpStatusCode.Created);
        var id = created.Id;
        Assert.Equal($"/api/trainings/{id}", created.Header("Location"));

        var read = (await fx.Api.GetAsync($"/api/trainings/{id}", member.Token)).Is(HttpStatusCode.OK);
        var body = read.Body!;
        Assert.Equal("2031-04-01", body["date"]!.GetValue<string>());
        Assert.Equal("18:00:00", body["start_time"]!.GetValue<string>());
        Assert.Equal("19:30:00", body["end_time"]!.GetValue<string>());
        Assert.Equal(12.50m, body["price"]!.GetValue<decimal>());
        Assert.Equal(group, body["group"]!.GetValue<long>());
        Assert.Equal(8, body["capacity"]!.GetValue<int>());
        Assert.Empty(body["users"]!.AsArray());
        Assert.NotNull(read.Header("ETag"));
    }

    [Fact]
    public async Task Capacity_may_be_left_out_for_no_limit()
    {
        var group = await fx.NewGroupAsync();
        var reply = (await fx.Api.PostAsync("/api/trainings",
                new { date = "2031-04-02", start_time = "09:00", end_time = "10:00", price = 0, group }, await fx.AdminTokenAsync()))
            .Is(HttpStatusCode.Created);
        Assert.Null(reply.Body!["capacity"]);
        Assert.True(reply.Body.AsObject().ContainsKey("capacity"));
    }

    [Fact]
    public async Task Invalid_trainings_are_rejected_naming_the_field()
    {
        var admin = await fx.AdminTokenAsync();
        var group = await fx.NewGroupAsync();
        var reply = (await fx.Api.PostAsync("/api/trainings",
                new { date = "2031-04-03", start_time = "19:00", end_time = "18:00", price = -1, group, capacity = 0 }, admin))
            .IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        var errors = reply.Body!["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("end_time"));
        Assert.True(errors.ContainsKey("price"));
        Assert.True(errors.ContainsKey("capacity"));

        reply = (await fx.Api.PostAsync("/api/trainings", new { start_time = "18:00", end_time = "18:00" }, admin))
            .IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        errors = reply.Body!["errors"]!.AsObject();
        Assert.Equal(["date", "end_time", "group", "price"], errors.Select(e => e.Key).Order().ToArray());

        (await fx.Api.PostAsync("/api/trainings",
                new { date = "2031-04-03", start_time = "18:00", end_time = "19:00", price = 5, group = long.MaxValue }, admin))
            .IsProblem(HttpStatusCode.BadRequest, "unknown_group");
    }

    [Fact]
    public async Task Training_writes_are_admin_only()
    {
        var member = await fx.NewUserAsync();
        var group = await fx.NewGroupAsync(member);
        var training = await fx.NewTrainingAsync(group, "2031-04-04");
        var body = new { date = "2031-04-04", start_time = "18:00", end_time = "19:00", price = 1, group };
        (await fx.Api.PostAsync("/api/trainings", body, member.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PutAsync($"/api/trainings/{training}", body, member.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PatchAsync($"/api/trainings/{training}", new { price = 0 }, member.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.DeleteAsync($"/api/trainings/{training}", member.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PostAsync("/api/trainings", body)).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        (await fx.Api.DeleteAsync($"/api/trainings/{training}")).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        (await fx.Api.GetAsync("/api/trainings")).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        var still = (await fx.Api.GetAsync($"/api/trainings/{training}", member.Token)).Is(HttpStatusCode.OK);
        Assert.Equal(10m, still.Body!["price"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Period_filter_includes_both_ends()
    {
        var member = await fx.NewUserAsync();
        var group = await fx.NewGroupAsync(member);
        var days = new[] { "2031-05-01", "2031-05-02", "2031-05-03", "2031-05-04", "2031-05-05" };
        var ids = new long[days.Length];
        for (var i = 0; i < days.Length; i++)
        {
            ids[i] = await fx.NewTrainingAsync(group, days[i]);
        }

        async Task<long[]> List(string period) =>
            (await fx.Api.GetAsync($"/api/trainings?group={group}{period}", member.Token)).Is(HttpStatusCode.OK).Ids();

        Assert.Equal(ids[1..4], await List("&date_from=2031-05-02&date_to=2031-05-04"));
        Assert.Equal([ids[2]], await List("&date_from=2031-05-03&date_to=2031-05-03"));
        Assert.Equal(ids[3..], await List("&date_from=2031-05-04"));
        Assert.Equal(ids[..2], await List("&date_to=2031-05-02"));
        Assert.Equal(ids, await List(string.Empty));
        var reply = (await fx.Api.GetAsync("/api/trainings?date_from=2031-05-04&date_to=2031-05-02", member.Token))
            .IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]!["date_to"]);
    }

    [Fact]
    public async Task A_user_sees_only_trainings_of_own_groups_and_an_admin_sees_all()
    {
        var alice = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        var alices = await fx.NewGroupAsync(alice);
        var bobs = await fx.NewGroupAsync(bob);
        var alicesTraining = await fx.NewTrainingAsync(alices, "2031-06-01");
        var bobsTraining = await fx.NewTrainingAsync(bobs, "2031-06-01");
        const string day = "date_from=2031-06-01&date_to=2031-06-01";

        var seen = (await fx.Api.GetAsync($"/api/trainings?{day}", alice.Token)).Is(HttpStatusCode.OK).Ids();
        Assert.Contains(alicesTraining, seen);
        Assert.DoesNotContain(bobsTraining, seen);
        Assert.Empty((await fx.Api.GetAsync($"/api/trainings?group={bobs}", alice.Token)).Is(HttpStatusCode.OK).Ids());
        (await fx.Api.GetAsync($"/api/trainings/{bobsTraining}", alice.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.PostAsync($"/api/trainings/{bobsTraining}/enroll", null, alice.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");

        var all = (await fx.Api.GetAsync($"/api/trainings?{day}&limit=500", await fx.AdminTokenAsync())).Is(HttpStatusCode.OK).Ids();
        Assert.Contains(alicesTraining, all);
        Assert.Contains(bobsTraining, all);
        Assert.Equal([bobsTraining], (await fx.Api.GetAsync($"/api/trainings?group={bobs}", await fx.AdminTokenAsync())).Ids());
    }

    [Fact]
    public async Task Put_replaces_and_patch_changes_only_what_was_sent()
    {
        var admin = await fx.AdminTokenAsync();
        var group = await fx.NewGroupAsync();
        var other = await fx.NewGroupAsync();
        var training = await fx.NewTrainingAsync(group, "2031-07-01", capacity: 5);

        var put = (await fx.Api.PutAsync($"/api/trainings/{training}",
                new { date = "2031-07-02", start_time = "07:00", end_time = "08:00", price = 3, group = other }, admin))
            .Is(HttpStatusCode.OK);
        Assert.Equal("2031-07-02", put.Body!["date"]!.GetValue<string>());
        Assert.Equal(other, put.Body["group"]!.GetValue<long>());
        Assert.Null(put.Body["capacity"]);

        var patched = (await fx.Api.PatchAsync($"/api/trainings/{training}", new { price = 4.25m, capacity = 20 }, admin)).Is(HttpStatusCode.OK);
        Assert.Equal(4.25m, patched.Body!["price"]!.GetValue<decimal>());
        Assert.Equal(20, patched.Body["capacity"]!.GetValue<int>());
        Assert.Equal("07:00:00", patched.Body["start_time"]!.GetValue<string>());
        // A member the training may hold null takes null: no capacity is no limit.
        Assert.Null((await fx.Api.PatchAsync($"/api/trainings/{training}", """{"capacity":null}""", admin)).Is(HttpStatusCode.OK).Body!["capacity"]);
        (await fx.Api.PatchAsync($"/api/trainings/{training}", """{"price":null}""", admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");

        (await fx.Api.PatchAsync($"/api/trainings/{training}", new { end_time = "06:00" }, admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        var reply = (await fx.Api.PatchAsync($"/api/trainings/{training}", """{"users":[1]}""", admin)).IsProblem(HttpStatusCode.BadRequest, "read_only_field");
        Assert.NotNull(reply.Body!["errors"]!["users"]);
        (await fx.Api.PatchAsync($"/api/trainings/{long.MaxValue}", new { price = 1 }, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task A_stale_If_Match_changes_nothing()
    {
        var admin = await fx.AdminTokenAsync();
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(), "2031-07-03");
        var etag = (await fx.Api.GetAsync($"/api/trainings/{training}", admin)).Header("ETag")!;
        var ifMatch = new Dictionary<string, string> { ["If-Match"] = etag };
        (await fx.Api.PatchAsync($"/api/trainings/{training}", new { price = 11 }, admin, ifMatch)).Is(HttpStatusCode.OK);
        (await fx.Api.PatchAsync($"/api/trainings/{training}", new { price = 12 }, admin, ifMatch)).IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        (await fx.Api.DeleteAsync($"/api/trainings/{training}", admin, ifMatch)).IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        Assert.Equal(11m, (await fx.Api.GetAsync($"/api/trainings/{training}", admin)).Body!["price"]!.GetValue<decimal>());
    }

    [Fact]
    public async Task Creating_a_training_twice_with_one_Idempotency_Key_creates_it_once()
    {
        var admin = await fx.AdminTokenAsync();
        var group = await fx.NewGroupAsync();
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };
        var body = new { date = "2031-07-04", start_time = "18:00", end_time = "19:00", price = 1, group };
        var first = (await fx.Api.PostAsync("/api/trainings", body, admin, key)).Is(HttpStatusCode.Created);
        var again = (await fx.Api.PostAsync("/api/trainings", body, admin, key)).Is(HttpStatusCode.Created);
        Assert.Equal("true", again.Header("Idempotent-Replayed"));
        Assert.Equal(first.Id, again.Id);
        Assert.Equal([first.Id], (await fx.Api.GetAsync($"/api/trainings?group={group}", admin)).Ids());
    }
}

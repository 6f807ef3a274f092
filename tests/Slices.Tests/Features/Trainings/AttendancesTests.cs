using System.Net;
using Slices.Tests.Features.Stages;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Trainings;

public sealed class AttendancesTests(SlicesFixture fx)
{
    [Fact]
    public async Task Admin_records_reads_changes_and_deletes_an_attendance()
    {
        var admin = await fx.AdminTokenAsync();
        var alice = await fx.NewUserAsync();
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(alice), "2031-09-01");

        var created = (await fx.Api.PostAsync("/api/attendances", new { training, user = alice.Id, status = "missed" }, admin)).Is(HttpStatusCode.Created);
        var id = created.Id;
        Assert.Equal($"/api/attendances/{id}", created.Header("Location"));
        Assert.Equal(training, created.Body!["training"]!.GetValue<long>());
        Assert.Equal(alice.Id, created.Body["user"]!.GetValue<long>());
        Assert.Equal("missed", created.Body["status"]!.GetValue<string>());
        var markedAt = created.Body["marked_at"]!.GetValue<DateTimeOffset>();
        Assert.InRange(DateTimeOffset.UtcNow - markedAt, TimeSpan.Zero - TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(1));

        var read = (await fx.Api.GetAsync($"/api/attendances/{id}", admin)).Is(HttpStatusCode.OK);
        var etag = read.Header("ETag")!;
        var changed = (await fx.Api.PatchAsync($"/api/attendances/{id}", new { status = "excused" }, admin, new Dictionary<string, string> { ["If-Match"] = etag }))
            .Is(HttpStatusCode.OK);
        Assert.Equal("excused", changed.Body!["status"]!.GetValue<string>());
        Assert.True(changed.Body["marked_at"]!.GetValue<DateTimeOffset>() >= markedAt);
        (await fx.Api.PatchAsync($"/api/attendances/{id}", new { status = "attended" }, admin, new Dictionary<string, string> { ["If-Match"] = etag }))
            .IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");

        (await fx.Api.DeleteAsync($"/api/attendances/{id}", admin)).Is(HttpStatusCode.NoContent);
        (await fx.Api.GetAsync($"/api/attendances/{id}", admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Only_status_can_be_changed_and_only_to_a_known_value()
    {
        var admin = await fx.AdminTokenAsync();
        var alice = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(alice, bob), "2031-09-02");
        var id = await fx.MarkAsync(training, alice, "attended");

        var reply = (await fx.Api.PatchAsync($"/api/attendances/{id}", new { user = bob.Id, marked_at = "2031-09-02T18:00:00Z" }, admin))
            .IsProblem(HttpStatusCode.BadRequest, "read_only_field");
        Assert.NotNull(reply.Body!["errors"]!["user"]);
        Assert.NotNull(reply.Body["errors"]!["marked_at"]);
        reply = (await fx.Api.PatchAsync($"/api/attendances/{id}", new { status = "late" }, admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]!["status"]);
        Assert.Equal("attended", (await fx.Api.GetAsync($"/api/attendances/{id}", admin)).Body!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task One_record_per_user_and_training()
    {
        var admin = await fx.AdminTokenAsync();
        var alice = await fx.NewUserAsync();
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(alice), "2031-09-03");
        await fx.MarkAsync(training, alice, "attended");
        (await fx.Api.PostAsync("/api/attendances", new { training, user = alice.Id, status = "missed" }, admin))
            .IsProblem(HttpStatusCode.Conflict, "duplicate_attendance");
        var records = (await fx.Api.GetAsync($"/api/attendances?training={training}", admin)).Is(HttpStatusCode.OK);
        Assert.Single(records.Array);
        Assert.Equal("attended", records.Array[0]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Parallel_records_for_one_user_and_training_leave_one()
    {
        var admin = await fx.AdminTokenAsync();
        var alice = await fx.NewUserAsync();
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(alice), "2031-09-04");
        var replies = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ =>
            fx.Api.PostAsync("/api/attendances", new { training, user = alice.Id, status = "attended" }, admin)));
        Assert.Single(replies, r => r.Status == HttpStatusCode.Created);
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.Created), r => r.IsProblem(HttpStatusCode.Conflict, "duplicate_attendance"));
        Assert.Single((await fx.Api.GetAsync($"/api/attendances?training={training}", admin)).Array);
    }

    [Fact]
    public async Task Attendance_is_only_for_members_of_the_trainings_group()
    {
        var admin = await fx.AdminTokenAsync();
        var outsider = await fx.NewUserAsync();
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(), "2031-09-05");
        var reply = (await fx.Api.PostAsync("/api/attendances", new { training, user = outsider.Id, status = "attended" }, admin))
            .IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]!["user"]);
        reply = (await fx.Api.PostAsync("/api/attendances", new { training = long.MaxValue, user = outsider.Id, status = "attended" }, admin))
            .IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]!["training"]);
        reply = (await fx.Api.PostAsync("/api/attendances", new { training, user = outsider.Id, status = "present" }, admin))
            .IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]!["status"]);
        Assert.Empty((await fx.Api.GetAsync($"/api/attendances?training={training}", admin)).Array);
    }

    [Fact]
    public async Task Attendance_routes_other_than_own_are_admin_only()
    {
        var alice = await fx.NewUserAsync();
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(alice), "2031-09-06");
        var id = await fx.MarkAsync(training, alice, "attended");
        // Even the record about alice herself: she reads it through /api/attendances/me.
        (await fx.Api.GetAsync($"/api/attendances/{id}", alice.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.GetAsync("/api/attendances", alice.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PostAsync("/api/attendances", new { training, user = alice.Id, status = "attended" }, alice.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PatchAsync($"/api/attendances/{id}", new { status = "missed" }, alice.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.DeleteAsync($"/api/attendances/{id}", alice.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.GetAsync($"/api/attendances/{id}")).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        (await fx.Api.GetAsync("/api/attendances/me")).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        Assert.Equal("attended", (await fx.Api.GetAsync($"/api/attendances/{id}", await fx.AdminTokenAsync())).Body!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_user_sees_own_attendances_for_a_period_and_another_users_are_404()
    {
        var alice = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        var group = await fx.NewGroupAsync(alice, bob);
        var first = await fx.NewTrainingAsync(group, "2031-10-01");
        var second = await fx.NewTrainingAsync(group, "2031-10-02");
        var third = await fx.NewTrainingAsync(group, "2031-10-03");
        var a1 = await fx.MarkAsync(first, alice, "attended");
        var a2 = await fx.MarkAsync(second, alice, "missed");
        var a3 = await fx.MarkAsync(third, alice, "excused");
        var b1 = await fx.MarkAsync(first, bob, "attended");

        Assert.Equal([a1, a2, a3], (await fx.Api.GetAsync("/api/attendances/me", alice.Token)).Is(HttpStatusCode.OK).Ids());
        Assert.Equal([a2, a3], (await fx.Api.GetAsync("/api/attendances/me?date_from=2031-10-02&date_to=2031-10-03", alice.Token)).Ids());
        Assert.Equal([a1, a2], (await fx.Api.GetAsync("/api/attendances/me?date_to=2031-10-02", alice.Token)).Ids());
        Assert.Equal([a1, a2, a3], (await fx.Api.GetAsync($"/api/users/{alice.Id}/attendances", alice.Token)).Is(HttpStatusCode.OK).Ids());
        Assert.Equal([a2], (await fx.Api.GetAsync($"/api/users/{alice.Id}/attendances?date_from=2031-10-02&date_to=2031-10-02", alice.Token)).Ids());

        (await fx.Api.GetAsync($"/api/users/{bob.Id}/attendances", alice.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        Assert.Equal([b1], (await fx.Api.GetAsync($"/api/users/{bob.Id}/attendances", await fx.AdminTokenAsync())).Is(HttpStatusCode.OK).Ids());
        (await fx.Api.GetAsync($"/api/users/{long.MaxValue}/attendances", await fx.AdminTokenAsync())).IsProblem(HttpStatusCode.NotFound, "not_found");
        // The username route is still the profile.
        Assert.Equal(alice.Id, (await fx.Api.GetAsync($"/api/users/{alice.Username}", alice.Token)).Is(HttpStatusCode.OK).Id);
    }

    [Fact]
    public async Task Admin_lists_attendances_by_training_user_status_and_period()
    {
        var admin = await fx.AdminTokenAsync();
        var alice = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        var group = await fx.NewGroupAsync(alice, bob);
        var first = await fx.NewTrainingAsync(group, "2031-10-05");
        var second = await fx.NewTrainingAsync(group, "2031-10-06");
        var a1 = await fx.MarkAsync(first, alice, "attended");
        var b1 = await fx.MarkAsync(first, bob, "missed");
        var a2 = await fx.MarkAsync(second, alice, "attended");

        Assert.Equal([a1, b1], (await fx.Api.GetAsync($"/api/attendances?training={first}", admin)).Is(HttpStatusCode.OK).Ids());
        Assert.Equal([a1, a2], (await fx.Api.GetAsync($"/api/attendances?user={alice.Id}", admin)).Ids());
        Assert.Equal([b1], (await fx.Api.GetAsync($"/api/attendances?user={bob.Id}&status=missed", admin)).Ids());
        Assert.Equal([a2], (await fx.Api.GetAsync($"/api/attendances?user={alice.Id}&date_from=2031-10-06&date_to=2031-10-06", admin)).Ids());
        var reply = (await fx.Api.GetAsync("/api/attendances?status=late", admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]!["status"]);
    }

    [Fact]
    public async Task A_record_for_a_training_deleted_while_it_is_written_is_400_naming_training()
    {
        var admin = await fx.AdminTokenAsync();
        var alice = await fx.NewUserAsync();
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(alice), "2031-10-08");

        // The insert still sees the training (the delete is not committed) and waits for its row lock in the foreign-key check.
        var reply = (await fx.DeletedDuringAsync("trainings", training, () => fx.Api.PostAsync("/api/attendances", new { training, user = alice.Id, status = "attended" }, admin)))
            .IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(["training"], reply.Body!["errors"]!.AsObject().Select(e => e.Key));
        Assert.Empty((await fx.Api.GetAsync($"/api/attendances?user={alice.Id}", admin)).Array);
    }

    [Fact]
    public async Task Deleting_a_training_deletes_its_attendance_records()
    {
        var admin = await fx.AdminTokenAsync();
        var alice = await fx.NewUserAsync();
        var training = await fx.NewTrainingAsync(await fx.NewGroupAsync(alice), "2031-10-07");
        var id = await fx.MarkAsync(training, alice, "attended");
        (await fx.Api.DeleteAsync($"/api/trainings/{training}", admin)).Is(HttpStatusCode.NoContent);
        (await fx.Api.GetAsync($"/api/attendances/{id}", admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        Assert.Empty((await fx.Api.GetAsync("/api/attendances/me", alice.Token)).Array);
    }
}

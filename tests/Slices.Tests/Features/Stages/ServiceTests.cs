using System.Net;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Stages.StageTestData;

namespace Slices.Tests.Features.Stages;

public sealed class ServiceTests(SlicesFixture fx)
{
    [Fact]
    public async Task Admin_creates_a_service_and_everyone_signed_in_reads_it()
    {
        var admin = await fx.AdminTokenAsync();
        var name = Unique("Sound");
        var created = (await fx.Api.PostAsync("/api/services", new { name }, admin)).Is(HttpStatusCode.Created);
        Assert.Equal(name, created.Body!["name"]!.GetValue<string>());
        Assert.Equal($"/api/services/{created.Id}", created.Header("Location"));

        var user = await fx.NewUserAsync();
        var read = (await fx.Api.GetAsync($"/api/services/{created.Id}", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal(created.Id, read.Id);
        Assert.Equal(name, read.Body!["name"]!.GetValue<string>());
        Assert.NotNull(read.Header("ETag"));
    }

    [Fact]
    public async Task A_duplicate_name_is_refused_case_insensitively_with_409()
    {
        var admin = await fx.AdminTokenAsync();
        var name = Unique("Light");
        await fx.NewServiceAsync(name);

        (await fx.Api.PostAsync("/api/services", new { name = name.ToUpperInvariant() }, admin)).IsProblem(HttpStatusCode.Conflict, "duplicate_name");
        var other = await fx.NewServiceAsync();
        (await fx.Api.PutAsync($"/api/services/{other}", new { name = name.ToLowerInvariant() }, admin)).IsProblem(HttpStatusCode.Conflict, "duplicate_name");
    }

    [Fact]
    public async Task A_name_must_be_1_to_255_characters()
    {
        var admin = await fx.AdminTokenAsync();
        var tooLong = (await fx.Api.PostAsync("/api/services", new { name = new string('x', 256) }, admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(tooLong.Body!["errors"]!["name"]);
        var empty = (await fx.Api.PostAsync("/api/services", new { name = "" }, admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(empty.Body!["errors"]!["name"]);
        var longest = Unique("x") + new string('x', 255 - Unique("x").Length);
        (await fx.Api.PostAsync("/api/services", new { name = longest }, admin)).Is(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Admin_replaces_and_patches_a_service_under_If_Match()
    {
        var admin = await fx.AdminTokenAsync();
        var id = await fx.NewServiceAsync();
        var etag = (await fx.Api.GetAsync($"/api/services/{id}", admin)).Header("ETag")!;

        var renamed = Unique("Piano");
        var put = (await fx.Api.PutAsync($"/api/services/{id}", new { name = renamed }, admin, IfMatch(etag))).Is(HttpStatusCode.OK);
        Assert.Equal(renamed, put.Body!["name"]!.GetValue<string>());
        Assert.NotEqual(etag, put.Header("ETag"));

        (await fx.Api.PatchAsync($"/api/services/{id}", new { name = Unique("stale") }, admin, IfMatch(etag))).IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        var patched = Unique("Drums");
        (await fx.Api.PatchAsync($"/api/services/{id}", new { name = patched }, admin, IfMatch(put.Header("ETag")!))).Is(HttpStatusCode.OK);
        Assert.Equal(patched, (await fx.Api.GetAsync($"/api/services/{id}", admin)).Body!["name"]!.GetValue<string>());
        (await fx.Api.PatchAsync($"/api/services/{id}", new { id = 1 }, admin)).IsProblem(HttpStatusCode.BadRequest, "read_only_field");
    }

    [Fact]
    public async Task PUT_with_a_stale_If_Match_is_a_412_and_changes_nothing()
    {
        var admin = await fx.AdminTokenAsync();
        var id = await fx.NewServiceAsync();
        var stale = (await fx.Api.GetAsync($"/api/services/{id}", admin)).Header("ETag")!;
        var current = Unique("Organ");
        (await fx.Api.PutAsync($"/api/services/{id}", new { name = current }, admin)).Is(HttpStatusCode.OK);

        (await fx.Api.PutAsync($"/api/services/{id}", new { name = Unique("stale") }, admin, IfMatch(stale))).IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        Assert.Equal(current, (await fx.Api.GetAsync($"/api/services/{id}", admin)).Body!["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task PUT_and_PATCH_of_a_deleted_service_are_404_also_when_it_is_deleted_during_the_write()
    {
        var admin = await fx.AdminTokenAsync();
        var deleted = await fx.NewServiceAsync();
        (await fx.Api.DeleteAsync($"/api/services/{deleted}", admin)).Is(HttpStatusCode.NoContent);
        (await fx.Api.PutAsync($"/api/services/{deleted}", new { name = Unique("gone") }, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.PatchAsync($"/api/services/{deleted}", new { name = Unique("gone") }, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");

        var put = await fx.NewServiceAsync();
        (await fx.DeletedDuringAsync("services", put, () => fx.Api.PutAsync($"/api/services/{put}", new { name = Unique("gone") }, admin)))
            .IsProblem(HttpStatusCode.NotFound, "not_found");
        var patch = await fx.NewServiceAsync();
        (await fx.DeletedDuringAsync("services", patch, () => fx.Api.PatchAsync($"/api/services/{patch}", new { name = Unique("gone") }, admin)))
            .IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Deleting_a_service_a_stage_offers_is_refused_with_409_until_the_stage_drops_it()
    {
        var admin = await fx.AdminTokenAsync();
        var service = await fx.NewServiceAsync();
        var stage = (await fx.NewStageAsync([service]))["id"]!.GetValue<long>();

        (await fx.Api.DeleteAsync($"/api/services/{service}", admin)).IsProblem(HttpStatusCode.Conflict, "in_use");
        (await fx.Api.GetAsync($"/api/services/{service}", admin)).Is(HttpStatusCode.OK);

        (await fx.Api.PatchAsync($"/api/stages/{stage}", new { services = Array.Empty<long>() }, admin)).Is(HttpStatusCode.OK);
        (await fx.Api.DeleteAsync($"/api/services/{service}", admin)).Is(HttpStatusCode.NoContent);
        (await fx.Api.GetAsync($"/api/services/{service}", admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.DeleteAsync($"/api/services/{service}", admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task The_list_is_paged_with_a_total_and_links()
    {
        var admin = await fx.AdminTokenAsync();
        await fx.NewServiceAsync();
        await fx.NewServiceAsync();

        var page = (await fx.Api.GetAsync("/api/services?limit=1&offset=1", admin)).Is(HttpStatusCode.OK);
        Assert.Single(page.Array);
        Assert.True(long.Parse(page.Header("X-Total-Count")!, System.Globalization.CultureInfo.InvariantCulture) >= 2);
        Assert.Contains("rel=\"prev\"", page.Header("Link"), StringComparison.Ordinal);
        (await fx.Api.GetAsync("/api/services?limit=0", admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Users_may_read_but_not_write_and_anonymous_callers_may_do_neither()
    {
        var user = await fx.NewUserAsync();
        var id = await fx.NewServiceAsync();

        (await fx.Api.GetAsync("/api/services", user.Token)).Is(HttpStatusCode.OK);
        (await fx.Api.PostAsync("/api/services", new { name = Unique("x") }, user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PutAsync($"/api/services/{id}", new { name = Unique("x") }, user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PatchAsync($"/api/services/{id}", new { name = Unique("x") }, user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.DeleteAsync($"/api/services/{id}", user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.GetAsync("/api/services")).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        (await fx.Api.GetAsync($"/api/services/{id}")).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        (await fx.Api.PostAsync("/api/services", new { name = Unique("x") })).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
    }
}

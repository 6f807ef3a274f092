using System.Net;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Stages.StageTestData;

namespace Slices.Tests.Features.Stages;

public sealed class StageTests(SlicesFixture fx)
{
    [Fact]
    public async Task Admin_creates_a_stage_with_its_services_and_a_user_reads_it()
    {
        var sound = await fx.NewServiceAsync();
        var light = await fx.NewServiceAsync();
        var name = Unique("Main hall");
        var created = (await fx.Api.PostAsync("/api/stages", new
        {
            name,
            address = "1 Music Street",
            description = "Big",
            open_time = "08:30",
            close_time = "23:00:00",
            services = new[] { light, sound, light },
        }, await fx.AdminTokenAsync())).Is(HttpStatusCode.Created);
        Assert.Equal($"/api/stages/{created.Id}", created.Header("Location"));

        var user = await fx.NewUserAsync();
        var read = (await fx.Api.GetAsync($"/api/stages/{created.Id}", user.Token)).Is(HttpStatusCode.OK);
        var stage = read.Body!;
        Assert.Equal(name, stage["name"]!.GetValue<string>());
        Assert.Equal("1 Music Street", stage["address"]!.GetValue<string>());
        Assert.Equal("Big", stage["description"]!.GetValue<string>());
        Assert.Equal("08:30:00", stage["open_time"]!.GetValue<string>());
        Assert.Equal("23:00:00", stage["close_time"]!.GetValue<string>());
        Assert.Equal(new[] { sound, light }.Order(), stage["services"]!.AsArray().Select(n => n!.GetValue<long>()));
        Assert.NotNull(read.Header("ETag"));
    }

    [Fact]
    public async Task Opening_time_must_be_before_closing_time()
    {
        var admin = await fx.AdminTokenAsync();
        var reply = (await fx.Api.PostAsync("/api/stages", new { name = Unique("s"), open_time = "18:00", close_time = "18:00" }, admin))
            .IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]!["close_time"]);

        var missing = (await fx.Api.PostAsync("/api/stages", new { address = "x" }, admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(["close_time", "name", "open_time"], missing.Body!["errors"]!.AsObject().Select(e => e.Key).Order());

        var id = await fx.NewStageIdAsync();
        (await fx.Api.PatchAsync($"/api/stages/{id}", new { close_time = "08:00" }, admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
    }

    [Fact]
    public async Task Unknown_services_are_refused_and_nothing_is_created()
    {
        var admin = await fx.AdminTokenAsync();
        var known = await fx.NewServiceAsync();
        var name = Unique("ghost");
        var reply = (await fx.Api.PostAsync("/api/stages", new { name, open_time = "09:00", close_time = "17:00", services = new[] { known, long.MaxValue } }, admin))
            .IsProblem(HttpStatusCode.BadRequest, "unknown_service");
        Assert.Contains(long.MaxValue.ToString(System.Globalization.CultureInfo.InvariantCulture), reply.Body!["errors"]!["services"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty((await fx.Api.GetAsync($"/api/stages?search={Uri.EscapeDataString(name)}", admin)).Array);
    }

    [Fact]
    public async Task An_update_naming_an_unknown_service_is_a_400_and_changes_nothing()
    {
        var admin = await fx.AdminTokenAsync();
        var known = await fx.NewServiceAsync();
        var stage = await fx.NewStageAsync([known]);
        var id = stage["id"]!.GetValue<long>();

        (await fx.Api.PatchAsync($"/api/stages/{id}", new { name = Unique("renamed"), services = new[] { long.MaxValue } }, admin))
            .IsProblem(HttpStatusCode.BadRequest, "unknown_service");
        Assert.Equal(stage.ToJsonString(), (await fx.Api.GetAsync($"/api/stages/{id}", admin)).Body!.ToJsonString());
    }

    [Fact]
    public async Task The_services_filter_keeps_stages_offering_all_of_them()
    {
        var admin = await fx.AdminTokenAsync();
        var (a, b) = (await fx.NewServiceAsync(), await fx.NewServiceAsync());
        var both = (await fx.NewStageAsync([a, b]))["id"]!.GetValue<long>();
        var onlyA = (await fx.NewStageAsync([a]))["id"]!.GetValue<long>();

        Assert.Equal([both], (await fx.Api.GetAsync($"/api/stages?services={a},{b}", admin)).Is(HttpStatusCode.OK).Ids());
        Assert.Equal([both], (await fx.Api.GetAsync($"/api/stages?services={a}&services={b}", admin)).Ids());
        Assert.Equal([both, onlyA], (await fx.Api.GetAsync($"/api/stages?services={a}", admin)).Ids());

        var bad = (await fx.Api.GetAsync("/api/stages?services=1,x", admin)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(bad.Body!["errors"]!["services"]);
    }

    [Fact]
    public async Task Search_matches_name_or_address_and_the_list_is_paged()
    {
        var user = await fx.NewUserAsync();
        var token = Guid.NewGuid().ToString("N");
        var byName = (await fx.NewStageAsync(name: $"Hall {token}"))["id"]!.GetValue<long>();
        var byAddress = (await fx.NewStageAsync(address: $"{token.ToUpperInvariant()} Road"))["id"]!.GetValue<long>();
        await fx.NewStageAsync();

        Assert.Equal([byName, byAddress], (await fx.Api.GetAsync($"/api/stages?search={token}", user.Token)).Ids());

        var first = (await fx.Api.GetAsync($"/api/stages?search={token}&limit=1", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal([byName], first.Ids());
        Assert.Equal("2", first.Header("X-Total-Count"));
        Assert.Contains("offset=1", first.Header("Link"), StringComparison.Ordinal);
        Assert.Contains("rel=\"next\"", first.Header("Link"), StringComparison.Ordinal);
        Assert.Empty((await fx.Api.GetAsync("/api/stages?search=%25_nothing_like_this", user.Token)).Array);
    }

    [Fact]
    public async Task Admin_replaces_and_patches_a_stage_under_If_Match()
    {
        var admin = await fx.AdminTokenAsync();
        var service = await fx.NewServiceAsync();
        var id = await fx.NewStageIdAsync();
        var etag = (await fx.Api.GetAsync($"/api/stages/{id}", admin)).Header("ETag")!;

        var name = Unique("Renamed");
        var put = (await fx.Api.PutAsync($"/api/stages/{id}", new { name, open_time = "10:00", close_time = "20:00", services = new[] { service } }, admin, IfMatch(etag)))
            .Is(HttpStatusCode.OK);
        Assert.Equal(name, put.Body!["name"]!.GetValue<string>());
        Assert.Equal("", put.Body["address"]!.GetValue<string>());
        Assert.Equal([service], put.Body["services"]!.AsArray().Select(n => n!.GetValue<long>()));

        (await fx.Api.PatchAsync($"/api/stages/{id}", new { description = "stale" }, admin, IfMatch(etag))).IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        var patched = (await fx.Api.PatchAsync($"/api/stages/{id}", new { close_time = "21:30" }, admin, IfMatch(put.Header("ETag")!))).Is(HttpStatusCode.OK);
        Assert.Equal("21:30:00", patched.Body!["close_time"]!.GetValue<string>());
        Assert.Equal(name, patched.Body["name"]!.GetValue<string>());
        Assert.Equal([service], patched.Body["services"]!.AsArray().Select(n => n!.GetValue<long>()));
        (await fx.Api.PutAsync($"/api/stages/{long.MaxValue}", new { name, open_time = "10:00", close_time = "20:00" }, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task PUT_with_a_stale_If_Match_is_a_412_and_changes_nothing()
    {
        var admin = await fx.AdminTokenAsync();
        var id = await fx.NewStageIdAsync();
        var read = (await fx.Api.GetAsync($"/api/stages/{id}", admin)).Is(HttpStatusCode.OK);
        (await fx.Api.PatchAsync($"/api/stages/{id}", new { description = "newer" }, admin)).Is(HttpStatusCode.OK);

        (await fx.Api.PutAsync($"/api/stages/{id}", new { name = Unique("stale"), open_time = "10:00", close_time = "20:00" }, admin, IfMatch(read.Header("ETag")!)))
            .IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        var now = (await fx.Api.GetAsync($"/api/stages/{id}", admin)).Body!;
        Assert.Equal((read.Body!["name"]!.GetValue<string>(), "newer"), (now["name"]!.GetValue<string>(), now["description"]!.GetValue<string>()));
    }

    [Fact]
    public async Task PUT_and_PATCH_of_a_deleted_stage_are_404_also_when_it_is_deleted_during_the_write()
    {
        var admin = await fx.AdminTokenAsync();
        var body = new { name = Unique("gone"), open_time = "10:00", close_time = "20:00" };
        var deleted = await fx.NewStageIdAsync();
        (await fx.Api.DeleteAsync($"/api/stages/{deleted}", admin)).Is(HttpStatusCode.NoContent);
        (await fx.Api.PutAsync($"/api/stages/{deleted}", body, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.PatchAsync($"/api/stages/{deleted}", new { name = body.name }, admin)).IsProblem(HttpStatusCode.NotFound, "not_found");

        var put = await fx.NewStageIdAsync();
        (await fx.DeletedDuringAsync("stages", put, () => fx.Api.PutAsync($"/api/stages/{put}", body, admin))).IsProblem(HttpStatusCode.NotFound, "not_found");
        var patch = await fx.NewStageIdAsync();
        (await fx.DeletedDuringAsync("stages", patch, () => fx.Api.PatchAsync($"/api/stages/{patch}", new { name = body.name }, admin)))
            .IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task A_stage_without_bookings_is_deleted_and_one_with_bookings_is_refused()
    {
        var admin = await fx.AdminTokenAsync();
        var empty = await fx.NewStageIdAsync();
        (await fx.Api.DeleteAsync($"/api/stages/{empty}", admin, IfMatch("\"1\""))).IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        (await fx.Api.DeleteAsync($"/api/stages/{empty}", admin)).Is(HttpStatusCode.NoContent);
        (await fx.Api.GetAsync($"/api/stages/{empty}", admin)).IsProblem(HttpStatusCode.NotFound, "not_found");

        var booked = await fx.NewStageIdAsync();
        var user = await fx.NewUserAsync();
        (await fx.BookAsync(user.Token, booked, FutureDate(), "10:00", "11:00")).Is(HttpStatusCode.Created);
        (await fx.Api.DeleteAsync($"/api/stages/{booked}", admin)).IsProblem(HttpStatusCode.Conflict, "in_use");
    }

    [Fact]
    public async Task Users_may_read_but_not_write_and_anonymous_callers_may_do_neither()
    {
        var user = await fx.NewUserAsync();
        var id = await fx.NewStageIdAsync();
        var body = new { name = Unique("x"), open_time = "09:00", close_time = "10:00" };

        (await fx.Api.GetAsync("/api/stages", user.Token)).Is(HttpStatusCode.OK);
        (await fx.Api.PostAsync("/api/stages", body, user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PutAsync($"/api/stages/{id}", body, user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PatchAsync($"/api/stages/{id}", new { name = "x" }, user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.DeleteAsync($"/api/stages/{id}", user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.GetAsync("/api/stages")).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        (await fx.Api.GetAsync($"/api/stages/{id}")).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        (await fx.Api.PostAsync("/api/stages", body)).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
    }
}

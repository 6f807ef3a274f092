using System.Net;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Cassettes;

public sealed class UpdateCassetteTests(SlicesFixture fx)
{
    [Fact]
    public async Task Put_replaces_every_member()
    {
        var id = (await Catalogue.AddAsync(fx, quantity: 4))["id"]!.GetValue<long>();
        var title = Catalogue.Unique("Aliens");

        var reply = (await fx.Api.PutAsync($"/api/cassettes/{id}", new { title, director = "James Cameron", released = "1986-07-18", quantity = 9 }, await fx.AdminTokenAsync()))
            .Is(HttpStatusCode.OK);

        Assert.Equal(id, reply.Id);
        Assert.Equal(title, reply.Body!["title"]!.GetValue<string>());
        Assert.Equal("James Cameron", reply.Body["director"]!.GetValue<string>());
        Assert.Equal("1986-07-18", reply.Body["released"]!.GetValue<string>());
        Assert.Equal(9, reply.Body["quantity"]!.GetValue<int>());
        Assert.NotNull(reply.Header("ETag"));
    }

    [Fact]
    public async Task Put_validates_like_create()
    {
        var id = (await Catalogue.AddAsync(fx, quantity: 4))["id"]!.GetValue<long>();

        var reply = await fx.Api.PutAsync($"/api/cassettes/{id}", new { title = "", director = "d", released = "1986-07-18", quantity = -3 }, await fx.AdminTokenAsync());

        reply.IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(["quantity", "title"], reply.Body!["errors"]!.AsObject().Select(e => e.Key).Order());
        Assert.Equal(4, await Catalogue.StockAsync(fx, id));
    }

    [Fact]
    public async Task Patch_changes_only_the_quantity()
    {
        var created = await Catalogue.AddAsync(fx, quantity: 1);
        var id = created["id"]!.GetValue<long>();

        var reply = (await fx.Api.PatchAsync($"/api/cassettes/{id}", new { quantity = 12 }, await fx.AdminTokenAsync())).Is(HttpStatusCode.OK);

        Assert.Equal(12, reply.Body!["quantity"]!.GetValue<int>());
        Assert.Equal(created["title"]!.GetValue<string>(), reply.Body["title"]!.GetValue<string>());
        Assert.Equal(created["director"]!.GetValue<string>(), reply.Body["director"]!.GetValue<string>());
        Assert.Equal(created["released"]!.GetValue<string>(), reply.Body["released"]!.GetValue<string>());
    }

    [Fact]
    public async Task Patch_with_null_for_a_member_a_cassette_always_has_is_400_naming_it_and_changes_nothing()
    {
        var id = (await Catalogue.AddAsync(fx, quantity: 4))["id"]!.GetValue<long>();

        var reply = await fx.Api.PatchAsync($"/api/cassettes/{id}", """{"quantity":null,"released":null}""", await fx.AdminTokenAsync());

        reply.IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(["quantity", "released"], reply.Body!["errors"]!.AsObject().Select(e => e.Key).Order());
        Assert.Equal(4, await Catalogue.StockAsync(fx, id));
    }

    [Fact]
    public async Task Patch_validates_the_merged_cassette_and_refuses_the_id()
    {
        var id = (await Catalogue.AddAsync(fx, quantity: 1))["id"]!.GetValue<long>();
        var token = await fx.AdminTokenAsync();

        (await fx.Api.PatchAsync($"/api/cassettes/{id}", new { quantity = -1 }, token)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        var readOnly = await fx.Api.PatchAsync($"/api/cassettes/{id}", new { id = id + 1 }, token);
        readOnly.IsProblem(HttpStatusCode.BadRequest, "read_only_field");
        Assert.True(readOnly.Body!["errors"]!.AsObject().ContainsKey("id"));
        Assert.Equal(1, await Catalogue.StockAsync(fx, id));
    }

    [Fact]
    public async Task A_stale_if_match_is_refused_with_412_and_a_current_one_is_accepted()
    {
        var id = (await Catalogue.AddAsync(fx, quantity: 1))["id"]!.GetValue<long>();
        var token = await fx.AdminTokenAsync();
        var etag = (await fx.Api.GetAsync($"/api/cassettes/{id}", token)).Is(HttpStatusCode.OK).Header("ETag")!;
        var changed = (await fx.Api.PatchAsync($"/api/cassettes/{id}", new { quantity = 2 }, token, new Dictionary<string, string> { ["If-Match"] = etag }))
            .Is(HttpStatusCode.OK);

        (await fx.Api.PatchAsync($"/api/cassettes/{id}", new { quantity = 3 }, token, new Dictionary<string, string> { ["If-Match"] = etag }))
            .IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");
        (await fx.Api.PutAsync($"/api/cassettes/{id}", new { title = "t", director = "d", released = "1990-01-01", quantity = 3 }, token, new Dictionary<string, string> { ["If-Match"] = etag }))
            .IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");

        Assert.NotEqual(etag, changed.Header("ETag"));
        Assert.Equal(2, await Catalogue.StockAsync(fx, id));
    }

    [Fact]
    public async Task Only_admins_change_cassettes()
    {
        var id = (await Catalogue.AddAsync(fx, quantity: 1))["id"]!.GetValue<long>();
        var user = await fx.NewUserAsync();

        (await fx.Api.PatchAsync($"/api/cassettes/{id}", new { quantity = 100 }, user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PutAsync($"/api/cassettes/{id}", new { title = "t", director = "d", released = "1990-01-01", quantity = 100 }, user.Token))
            .IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PatchAsync($"/api/cassettes/{id}", new { quantity = 100 })).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        Assert.Equal(1, await Catalogue.StockAsync(fx, id));
    }

    [Fact]
    public async Task Changing_a_cassette_that_does_not_exist_is_404()
    {
        var token = await fx.AdminTokenAsync();

        (await fx.Api.PatchAsync("/api/cassettes/999999999", new { quantity = 1 }, token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.PutAsync("/api/cassettes/999999999", new { title = "t", director = "d", released = "1990-01-01" }, token))
            .IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.GetAsync("/api/cassettes/999999999", token)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }
}

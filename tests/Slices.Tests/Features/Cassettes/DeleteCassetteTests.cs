using System.Net;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Cassettes;

public sealed class DeleteCassetteTests(SlicesFixture fx)
{
    [Fact]
    public async Task Admin_deletes_a_cassette()
    {
        var id = (await Catalogue.AddAsync(fx, quantity: 1))["id"]!.GetValue<long>();
        var token = await fx.AdminTokenAsync();

        (await fx.Api.DeleteAsync($"/api/cassettes/{id}", token)).Is(HttpStatusCode.NoContent);

        (await fx.Api.GetAsync($"/api/cassettes/{id}", token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.DeleteAsync($"/api/cassettes/{id}", token)).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task A_stale_if_match_keeps_the_cassette()
    {
        var id = (await Catalogue.AddAsync(fx, quantity: 1))["id"]!.GetValue<long>();
        var token = await fx.AdminTokenAsync();
        var etag = (await fx.Api.GetAsync($"/api/cassettes/{id}", token)).Header("ETag")!;
        (await fx.Api.PatchAsync($"/api/cassettes/{id}", new { quantity = 5 }, token)).Is(HttpStatusCode.OK);

        (await fx.Api.DeleteAsync($"/api/cassettes/{id}", token, new Dictionary<string, string> { ["If-Match"] = etag }))
            .IsProblem(HttpStatusCode.PreconditionFailed, "precondition_failed");

        Assert.Equal(5, await Catalogue.StockAsync(fx, id));
    }

    [Fact]
    public async Task Only_admins_delete_cassettes()
    {
        var id = (await Catalogue.AddAsync(fx, quantity: 1))["id"]!.GetValue<long>();

        (await fx.Api.DeleteAsync($"/api/cassettes/{id}", (await fx.NewUserAsync()).Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.DeleteAsync($"/api/cassettes/{id}")).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        Assert.Equal(1, await Catalogue.StockAsync(fx, id));
    }
}

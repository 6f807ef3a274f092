using System.Net;
using Slices.Tests.Features.Cassettes;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Orders;

public sealed class GetOrderTests(SlicesFixture fx)
{
    [Fact]
    public async Task A_user_lists_only_their_own_orders_newest_first()
    {
        var cassette = await Shop.CassetteAsync(fx, 5);
        var alice = await fx.NewUserAsync();
        var bob = await fx.NewUserAsync();
        var first = (await Shop.PlaceAsync(fx, alice.Token, (cassette, 1)))["id"]!.GetValue<long>();
        var second = (await Shop.PlaceAsync(fx, alice.Token, (cassette, 1)))["id"]!.GetValue<long>();
        var bobs = (await Shop.PlaceAsync(fx, bob.Token, (cassette, 1)))["id"]!.GetValue<long>();

        var reply = (await fx.Api.GetAsync("/api/orders", alice.Token)).Is(HttpStatusCode.OK);

        Assert.Equal([second, first], reply.Array.Select(o => o!["id"]!.GetValue<long>()));
        Assert.Equal("2", reply.Header("X-Total-Count"));
        var all = (await fx.Api.GetAsync("/api/orders?limit=500", await fx.AdminTokenAsync())).Is(HttpStatusCode.OK);
        Assert.Contains(bobs, all.Array.Select(o => o!["id"]!.GetValue<long>()));
    }

    [Fact]
    public async Task Orders_filter_by_status_and_refuse_an_unknown_one()
    {
        var cassette = await Shop.CassetteAsync(fx, 5);
        var user = await fx.NewUserAsync();
        var kept = (await Shop.PlaceAsync(fx, user.Token, (cassette, 1)))["id"]!.GetValue<long>();
        var cancelled = (await Shop.PlaceAsync(fx, user.Token, (cassette, 1)))["id"]!.GetValue<long>();
        (await fx.Api.PostAsync($"/api/orders/{cancelled}/cancel", null, user.Token)).Is(HttpStatusCode.OK);

        var placed = (await fx.Api.GetAsync("/api/orders?status=placed", user.Token)).Is(HttpStatusCode.OK);
        var gone = (await fx.Api.GetAsync("/api/orders?status=cancelled", user.Token)).Is(HttpStatusCode.OK);
        var unknown = await fx.Api.GetAsync("/api/orders?status=shipped", user.Token);

        Assert.Equal([kept], placed.Array.Select(o => o!["id"]!.GetValue<long>()));
        Assert.Equal([cancelled], gone.Array.Select(o => o!["id"]!.GetValue<long>()));
        unknown.IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(["status"], unknown.Body!["errors"]!.AsObject().Select(e => e.Key));
    }

    [Fact]
    public async Task Another_users_order_is_404_and_an_admin_sees_it()
    {
        var cassette = await Shop.CassetteAsync(fx, 5);
        var owner = await fx.NewUserAsync();
        var id = (await Shop.PlaceAsync(fx, owner.Token, (cassette, 1)))["id"]!.GetValue<long>();

        (await fx.Api.GetAsync($"/api/orders/{id}", (await fx.NewUserAsync()).Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        var asAdmin = (await fx.Api.GetAsync($"/api/orders/{id}", await fx.AdminTokenAsync())).Is(HttpStatusCode.OK);
        Assert.Equal(owner.Id, asAdmin.Body!["user"]!.GetValue<long>());
        Assert.NotNull(asAdmin.Header("ETag"));
        (await fx.Api.GetAsync($"/api/orders/{id}")).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
    }

    [Fact]
    public async Task Deleting_an_ordered_cassette_keeps_the_order_readable()
    {
        var title = Catalogue.Unique("Videodrome");
        var cassette = await Shop.CassetteAsync(fx, 2, title);
        var user = await fx.NewUserAsync();
        var id = (await Shop.PlaceAsync(fx, user.Token, (cassette, 1)))["id"]!.GetValue<long>();

        (await fx.Api.DeleteAsync($"/api/cassettes/{cassette}", await fx.AdminTokenAsync())).Is(HttpStatusCode.NoContent);

        var order = (await fx.Api.GetAsync($"/api/orders/{id}", user.Token)).Is(HttpStatusCode.OK);
        var item = Assert.Single(order.Body!["items"]!.AsArray())!;
        Assert.Equal(cassette, item["cassette"]!.GetValue<long>());
        Assert.Equal(title, item["title"]!.GetValue<string>());
        Assert.Equal(1, item["quantity"]!.GetValue<int>());
        Assert.Single((await fx.Api.GetAsync("/api/orders", user.Token)).Is(HttpStatusCode.OK).Array);
        // Cancelling still works; there is no cassette left to take the copy back.
        var cancelled = (await fx.Api.PostAsync($"/api/orders/{id}/cancel", null, user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal("cancelled", cancelled.Body!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_order_line_keeps_the_title_it_was_sold_under()
    {
        var title = Catalogue.Unique("Original");
        var cassette = await Shop.CassetteAsync(fx, 2, title);
        var user = await fx.NewUserAsync();
        var id = (await Shop.PlaceAsync(fx, user.Token, (cassette, 1)))["id"]!.GetValue<long>();

        (await fx.Api.PatchAsync($"/api/cassettes/{cassette}", new { title = "Renamed" }, await fx.AdminTokenAsync())).Is(HttpStatusCode.OK);

        var order = (await fx.Api.GetAsync($"/api/orders/{id}", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal(title, order.Body!["items"]![0]!["title"]!.GetValue<string>());
    }
}

using System.Net;
using Slices.Tests.Features.Cassettes;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Orders;

public sealed class CancelOrderTests(SlicesFixture fx)
{
    [Fact]
    public async Task Cancelling_returns_the_stock_and_a_second_cancel_is_409()
    {
        var a = await Shop.CassetteAsync(fx, 5);
        var b = await Shop.CassetteAsync(fx, 1);
        var user = await fx.NewUserAsync();
        var id = (await Shop.PlaceAsync(fx, user.Token, (a, 3), (b, 1)))["id"]!.GetValue<long>();
        Assert.Equal(2, await Catalogue.StockAsync(fx, a));

        var cancelled = (await fx.Api.PostAsync($"/api/orders/{id}/cancel", null, user.Token)).Is(HttpStatusCode.OK);

        Assert.Equal("cancelled", cancelled.Body!["status"]!.GetValue<string>());
        Assert.Equal(2, cancelled.Body["items"]!.AsArray().Count);
        Assert.Equal(5, await Catalogue.StockAsync(fx, a));
        Assert.Equal(1, await Catalogue.StockAsync(fx, b));
        (await fx.Api.PostAsync($"/api/orders/{id}/cancel", null, user.Token)).IsProblem(HttpStatusCode.Conflict, "already_cancelled");
        Assert.Equal(5, await Catalogue.StockAsync(fx, a));
        Assert.Equal("cancelled", (await fx.Api.GetAsync($"/api/orders/{id}", user.Token)).Body!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Another_users_order_cannot_be_cancelled_and_looks_absent()
    {
        var cassette = await Shop.CassetteAsync(fx, 2);
        var owner = await fx.NewUserAsync();
        var id = (await Shop.PlaceAsync(fx, owner.Token, (cassette, 2)))["id"]!.GetValue<long>();

        (await fx.Api.PostAsync($"/api/orders/{id}/cancel", null, (await fx.NewUserAsync()).Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        (await fx.Api.PostAsync($"/api/orders/{id}/cancel", null)).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");

        Assert.Equal("placed", (await fx.Api.GetAsync($"/api/orders/{id}", owner.Token)).Body!["status"]!.GetValue<string>());
        Assert.Equal(0, await Catalogue.StockAsync(fx, cassette));
    }

    [Fact]
    public async Task An_admin_cancels_any_order()
    {
        var cassette = await Shop.CassetteAsync(fx, 2);
        var id = (await Shop.PlaceAsync(fx, (await fx.NewUserAsync()).Token, (cassette, 2)))["id"]!.GetValue<long>();

        (await fx.Api.PostAsync($"/api/orders/{id}/cancel", null, await fx.AdminTokenAsync())).Is(HttpStatusCode.OK);

        Assert.Equal(2, await Catalogue.StockAsync(fx, cassette));
    }

    [Fact]
    public async Task An_unknown_order_is_404()
    {
        (await fx.Api.PostAsync("/api/orders/999999999/cancel", null, await fx.AdminTokenAsync())).IsProblem(HttpStatusCode.NotFound, "not_found");
    }

    [Fact]
    public async Task Parallel_cancels_of_one_order_return_the_stock_once()
    {
        var cassette = await Shop.CassetteAsync(fx, 3);
        var user = await fx.NewUserAsync();
        var id = (await Shop.PlaceAsync(fx, user.Token, (cassette, 3)))["id"]!.GetValue<long>();

        var replies = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => fx.Api.PostAsync($"/api/orders/{id}/cancel", null, user.Token)));

        Assert.Single(replies, r => r.Status == HttpStatusCode.OK);
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.OK), r => r.IsProblem(HttpStatusCode.Conflict, "already_cancelled"));
        Assert.Equal(3, await Catalogue.StockAsync(fx, cassette));
    }
}

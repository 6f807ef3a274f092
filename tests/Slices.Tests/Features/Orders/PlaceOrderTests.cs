using System.Net;
using Slices.Tests.Features.Cassettes;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Orders;

public sealed class PlaceOrderTests(SlicesFixture fx)
{
    [Fact]
    public async Task An_order_takes_stock_and_answers_the_placed_order()
    {
        var title = Catalogue.Unique("Alien");
        var alien = await Shop.CassetteAsync(fx, 3, title);
        var other = await Shop.CassetteAsync(fx, 1);
        var user = await fx.NewUserAsync();

        var reply = (await fx.Api.PostAsync("/api/orders", Shop.Items((alien, 2), (other, 1)), user.Token)).Is(HttpStatusCode.Created);

        Assert.Equal($"/api/orders/{reply.Id}", reply.Header("Location"));
        Assert.Equal(user.Id, reply.Body!["user"]!.GetValue<long>());
        Assert.Equal("placed", reply.Body["status"]!.GetValue<string>());
        var items = reply.Body["items"]!.AsArray();
        Assert.Equal(2, items.Count);
        Assert.Equal(alien, items[0]!["cassette"]!.GetValue<long>());
        Assert.Equal(title, items[0]!["title"]!.GetValue<string>());
        Assert.Equal(2, items[0]!["quantity"]!.GetValue<int>());
        Assert.Equal(other, items[1]!["cassette"]!.GetValue<long>());
        Assert.True(DateTimeOffset.UtcNow - DateTimeOffset.Parse(reply.Body["created_at"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture) < TimeSpan.FromMinutes(1));
        Assert.EndsWith("Z", reply.Body["created_at"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, await Catalogue.StockAsync(fx, alien));
        Assert.Equal(0, await Catalogue.StockAsync(fx, other));
        var stored = (await fx.Api.GetAsync($"/api/orders/{reply.Id}", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal(reply.Body.ToJsonString(), stored.Body!.ToJsonString());
    }

    [Fact]
    public async Task An_order_with_one_short_item_changes_nothing_and_names_the_short_cassette()
    {
        var plenty = await Shop.CassetteAsync(fx, 10);
        var scarce = await Shop.CassetteAsync(fx, 1);
        var user = await fx.NewUserAsync();

        var reply = await fx.Api.PostAsync("/api/orders", Shop.Items((plenty, 4), (scarce, 2)), user.Token);

        reply.IsProblem(HttpStatusCode.Conflict, "out_of_stock");
        Assert.Equal(["items[1].quantity"], reply.Body!["errors"]!.AsObject().Select(e => e.Key));
        Assert.Contains(scarce.ToString(System.Globalization.CultureInfo.InvariantCulture), reply.Body["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(10, await Catalogue.StockAsync(fx, plenty));
        Assert.Equal(1, await Catalogue.StockAsync(fx, scarce));
        Assert.Empty((await fx.Api.GetAsync("/api/orders", user.Token)).Is(HttpStatusCode.OK).Array);
    }

    [Fact]
    public async Task An_unknown_cassette_is_rejected_and_nothing_is_taken()
    {
        var known = await Shop.CassetteAsync(fx, 2);
        var user = await fx.NewUserAsync();

        var reply = await fx.Api.PostAsync("/api/orders", Shop.Items((known, 1), (999_999_999, 1)), user.Token);

        reply.IsProblem(HttpStatusCode.BadRequest, "unknown_cassette");
        Assert.Equal(["items[1].cassette"], reply.Body!["errors"]!.AsObject().Select(e => e.Key));
        Assert.Equal(2, await Catalogue.StockAsync(fx, known));
    }

    [Fact]
    public async Task Duplicate_lines_for_one_cassette_are_rejected()
    {
        var cassette = await Shop.CassetteAsync(fx, 5);

        var reply = await fx.Api.PostAsync("/api/orders", Shop.Items((cassette, 1), (cassette, 2)), (await fx.NewUserAsync()).Token);

        reply.IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(["items[1].cassette"], reply.Body!["errors"]!.AsObject().Select(e => e.Key));
        Assert.Equal(5, await Catalogue.StockAsync(fx, cassette));
    }

    [Fact]
    public async Task Empty_orders_and_non_positive_quantities_are_rejected()
    {
        var cassette = await Shop.CassetteAsync(fx, 5);
        var token = (await fx.NewUserAsync()).Token;

        var empty = await fx.Api.PostAsync("/api/orders", new { items = Array.Empty<object>() }, token);
        var zero = await fx.Api.PostAsync("/api/orders", Shop.Items((cassette, 0)), token);
        var missing = await fx.Api.PostAsync("/api/orders", new { }, token);

        empty.IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(["items"], empty.Body!["errors"]!.AsObject().Select(e => e.Key));
        zero.IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(["items[0].quantity"], zero.Body!["errors"]!.AsObject().Select(e => e.Key));
        missing.IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(5, await Catalogue.StockAsync(fx, cassette));
    }

    [Fact]
    public async Task A_null_item_is_a_400_naming_it_and_takes_nothing()
    {
        var cassette = await Shop.CassetteAsync(fx, 5);

        var reply = await fx.Api.PostAsync("/api/orders", $$"""{"items":[{"cassette":{{cassette}},"quantity":1},null]}""", (await fx.NewUserAsync()).Token);

        reply.IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(["items[1]"], reply.Body!["errors"]!.AsObject().Select(e => e.Key));
        Assert.Equal(5, await Catalogue.StockAsync(fx, cassette));
    }

    [Fact]
    public async Task Ordering_needs_a_signed_in_user()
    {
        var cassette = await Shop.CassetteAsync(fx, 1);

        (await fx.Api.PostAsync("/api/orders", Shop.Items((cassette, 1)))).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        Assert.Equal(1, await Catalogue.StockAsync(fx, cassette));
    }

    [Fact]
    public async Task Thirty_parallel_orders_against_five_copies_sell_exactly_five()
    {
        var cassette = await Shop.CassetteAsync(fx, 5);
        var users = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => fx.NewUserAsync()));

        var replies = await Task.WhenAll(Enumerable.Range(0, 30).Select(i =>
            fx.Api.PostAsync("/api/orders", Shop.Items((cassette, 1)), users[i % users.Length].Token)));

        Assert.Equal(5, replies.Count(r => r.Status == HttpStatusCode.Created));
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.Created), r => r.IsProblem(HttpStatusCode.Conflict, "out_of_stock"));
        Assert.Equal(0, await Catalogue.StockAsync(fx, cassette));
    }

    [Fact]
    public async Task Parallel_multi_item_orders_in_opposite_orders_never_oversell_either_cassette()
    {
        var a = await Shop.CassetteAsync(fx, 4);
        var b = await Shop.CassetteAsync(fx, 4);
        var token = (await fx.NewUserAsync()).Token;

        var replies = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            fx.Api.PostAsync("/api/orders", i % 2 == 0 ? Shop.Items((a, 1), (b, 1)) : Shop.Items((b, 1), (a, 1)), token)));

        Assert.Equal(4, replies.Count(r => r.Status == HttpStatusCode.Created));
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.Created), r => r.IsProblem(HttpStatusCode.Conflict, "out_of_stock"));
        Assert.Equal(0, await Catalogue.StockAsync(fx, a));
        Assert.Equal(0, await Catalogue.StockAsync(fx, b));
    }

    [Fact]
    public async Task A_replayed_order_with_the_same_idempotency_key_takes_stock_once()
    {
        var cassette = await Shop.CassetteAsync(fx, 5);
        var user = await fx.NewUserAsync();
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };

        var first = (await fx.Api.PostAsync("/api/orders", Shop.Items((cassette, 2)), user.Token, headers)).Is(HttpStatusCode.Created);
        var replay = (await fx.Api.PostAsync("/api/orders", Shop.Items((cassette, 2)), user.Token, headers)).Is(HttpStatusCode.Created);

        Assert.Null(first.Header("Idempotent-Replayed"));
        Assert.Equal("true", replay.Header("Idempotent-Replayed"));
        Assert.Equal(first.Body!.ToJsonString(), replay.Body!.ToJsonString());
        Assert.Equal(first.Header("Location"), replay.Header("Location"));
        Assert.Equal(3, await Catalogue.StockAsync(fx, cassette));
        Assert.Single((await fx.Api.GetAsync("/api/orders", user.Token)).Is(HttpStatusCode.OK).Array);
        (await fx.Api.PostAsync("/api/orders", Shop.Items((cassette, 1)), user.Token, headers)).IsProblem(HttpStatusCode.Conflict, "idempotency_key_reused");
    }
}

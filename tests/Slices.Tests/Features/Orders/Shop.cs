using System.Net;
using System.Text.Json.Nodes;
using Slices.Tests.Features.Cassettes;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Orders;

// Order bodies and placed orders for tests.
public static class Shop
{
    public static object Items(params (long Cassette, int Quantity)[] items) =>
        new { items = items.Select(i => new { cassette = i.Cassette, quantity = i.Quantity }).ToArray() };

    public static async Task<long> CassetteAsync(SlicesFixture fx, int quantity, string? title = null) =>
        (await Catalogue.AddAsync(fx, quantity, title))["id"]!.GetValue<long>();

    public static async Task<JsonNode> PlaceAsync(SlicesFixture fx, string token, params (long Cassette, int Quantity)[] items) =>
        (await fx.Api.PostAsync("/api/orders", Items(items), token)).Is(HttpStatusCode.Created).Body!;
}

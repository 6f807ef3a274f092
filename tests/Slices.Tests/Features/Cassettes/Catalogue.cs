using System.Net;
using System.Text.Json.Nodes;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Cassettes;

// Cassettes for tests: unique titles and directors, so parallel tests never see each other's data.
public static class Catalogue
{
    public static string Unique(string prefix) => $"{prefix} {Guid.NewGuid():N}";

    public static async Task<JsonNode> AddAsync(SlicesFixture fx, int quantity, string? title = null, string? director = null, string released = "1984-10-26")
    {
        var body = new { title = title ?? Unique("Tape"), director = director ?? Unique("Director"), released, quantity };
        return (await fx.Api.PostAsync("/api/cassettes", body, await fx.AdminTokenAsync())).Is(HttpStatusCode.Created).Body!;
    }

    public static async Task<int> StockAsync(SlicesFixture fx, long id) =>
        (await fx.Api.GetAsync($"/api/cassettes/{id}", await fx.AdminTokenAsync())).Is(HttpStatusCode.OK).Body!["quantity"]!.GetValue<int>();
}

using System.Net;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Cassettes;

public sealed class ListCassettesTests(SlicesFixture fx)
{
    private async Task<string[]> TitlesAsync(string query)
    {
        var reply = (await fx.Api.GetAsync($"/api/cassettes?{query}", (await fx.NewUserAsync()).Token)).Is(HttpStatusCode.OK);
        return reply.Array.Select(c => c!["title"]!.GetValue<string>()).ToArray();
    }

    // Three cassettes by one unique director: "b", "A", "c" (titles suffixed by the tag), released 1980, 1990, 1985.
    private async Task<(string Director, string Tag)> ThreeByOneDirectorAsync()
    {
        var tag = Guid.NewGuid().ToString("N");
        var director = $"Director {tag}";
        await Catalogue.AddAsync(fx, quantity: 0, title: $"b {tag}", director: director, released: "1980-05-01");
        await Catalogue.AddAsync(fx, quantity: 2, title: $"A {tag}", director: director, released: "1990-05-01");
        await Catalogue.AddAsync(fx, quantity: 1, title: $"c {tag}", director: director, released: "1985-05-01");
        return (Uri.EscapeDataString(director), tag);
    }

    [Fact]
    public async Task Search_matches_title_or_director_case_insensitively()
    {
        var tag = Guid.NewGuid().ToString("N");
        var byTitle = await Catalogue.AddAsync(fx, quantity: 0, title: $"The Thing {tag}");
        var byDirector = await Catalogue.AddAsync(fx, quantity: 0, director: $"John Carpenter {tag}");
        await Catalogue.AddAsync(fx, quantity: 0);

        var found = await TitlesAsync($"search={tag.ToUpperInvariant()}");

        Assert.Equal(
            new[] { byTitle["title"]!.GetValue<string>(), byDirector["title"]!.GetValue<string>() }.Order(),
            found.Order());
    }

    [Fact]
    public async Task Search_treats_like_wildcards_as_text()
    {
        var tag = Guid.NewGuid().ToString("N");
        await Catalogue.AddAsync(fx, quantity: 0, title: $"100% {tag}");
        await Catalogue.AddAsync(fx, quantity: 0, title: $"100x {tag}");

        Assert.Equal([$"100% {tag}"], await TitlesAsync($"search={Uri.EscapeDataString($"0% {tag}")}"));
    }

    [Fact]
    public async Task Director_filter_is_an_exact_case_insensitive_match()
    {
        var (director, tag) = await ThreeByOneDirectorAsync();
        await Catalogue.AddAsync(fx, quantity: 0, title: $"other {tag}", director: $"Director {tag} Jr.");

        Assert.Equal(3, (await TitlesAsync($"director={director.ToUpperInvariant()}")).Length);
        Assert.Equal(3, (await TitlesAsync($"director={director}&search={tag}")).Length);
    }

    [Fact]
    public async Task Release_date_bounds_are_inclusive()
    {
        var (director, tag) = await ThreeByOneDirectorAsync();

        Assert.Equal([$"c {tag}", $"A {tag}"], await TitlesAsync($"director={director}&released_from=1985-05-01&ordering=released"));
        Assert.Equal([$"b {tag}", $"c {tag}"], await TitlesAsync($"director={director}&released_to=1985-05-01&ordering=released"));
        Assert.Equal([$"c {tag}"], await TitlesAsync($"director={director}&released_from=1985-05-01&released_to=1985-05-01"));
    }

    [Fact]
    public async Task In_stock_true_leaves_out_cassettes_with_no_copies_and_false_keeps_only_them()
    {
        var (director, tag) = await ThreeByOneDirectorAsync();

        Assert.Equal([$"A {tag}", $"c {tag}"], await TitlesAsync($"director={director}&in_stock=true&ordering=title"));
        Assert.Equal([$"b {tag}"], await TitlesAsync($"director={director}&in_stock=false"));
    }

    [Theory]
    [InlineData("title", new[] { "A", "b", "c" })]
    [InlineData("-title", new[] { "c", "b", "A" })]
    [InlineData("released", new[] { "b", "c", "A" })]
    [InlineData("-released", new[] { "A", "c", "b" })]
    public async Task Ordering_sorts_by_title_case_insensitively_or_by_release_date(string ordering, string[] expected)
    {
        var (director, tag) = await ThreeByOneDirectorAsync();

        Assert.Equal(expected.Select(t => $"{t} {tag}"), await TitlesAsync($"director={director}&ordering={ordering}"));
    }

    [Fact]
    public async Task An_unknown_ordering_is_rejected_naming_the_parameter()
    {
        var reply = await fx.Api.GetAsync("/api/cassettes?ordering=quantity", (await fx.NewUserAsync()).Token);

        reply.IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal(["ordering"], reply.Body!["errors"]!.AsObject().Select(e => e.Key));
    }

    [Theory]
    [InlineData("released_from=1985-13-01", "released_from")]
    [InlineData("released_to=yesterday", "released_to")]
    [InlineData("in_stock=maybe", "in_stock")]
    [InlineData("limit=0", "limit")]
    public async Task Malformed_filter_values_are_rejected_naming_the_parameter(string query, string parameter)
    {
        var reply = await fx.Api.GetAsync($"/api/cassettes?{query}", (await fx.NewUserAsync()).Token);

        reply.IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.Equal([parameter], reply.Body!["errors"]!.AsObject().Select(e => e.Key));
    }

    [Fact]
    public async Task Pages_carry_the_total_and_links()
    {
        var (director, tag) = await ThreeByOneDirectorAsync();
        var token = (await fx.NewUserAsync()).Token;

        var first = (await fx.Api.GetAsync($"/api/cassettes?director={director}&ordering=title&limit=2", token)).Is(HttpStatusCode.OK);
        var second = (await fx.Api.GetAsync($"/api/cassettes?director={director}&ordering=title&limit=2&offset=2", token)).Is(HttpStatusCode.OK);

        Assert.Equal("3", first.Header("X-Total-Count"));
        Assert.Equal([$"A {tag}", $"b {tag}"], first.Array.Select(c => c!["title"]!.GetValue<string>()));
        Assert.Contains("rel=\"next\"", first.Header("Link"), StringComparison.Ordinal);
        Assert.Equal([$"c {tag}"], second.Array.Select(c => c!["title"]!.GetValue<string>()));
        Assert.Contains("rel=\"prev\"", second.Header("Link"), StringComparison.Ordinal);
        Assert.DoesNotContain("rel=\"next\"", second.Header("Link"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Listing_needs_a_signed_in_user()
    {
        (await fx.Api.GetAsync("/api/cassettes")).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
    }
}

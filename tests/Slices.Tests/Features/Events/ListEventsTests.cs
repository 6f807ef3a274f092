using System.Net;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Events;

public sealed class ListEventsTests(SlicesFixture fx)
{
    private static DateOnly Day(int day) => new(2031, 3, day);

    [Fact]
    public async Task Date_bounds_are_inclusive_and_date_picks_one_day()
    {
        var user = await fx.NewUserAsync();
        var org = await fx.NewOrganizationAsync(user.Token);
        var ids = new List<long>();
        foreach (var day in new[] { 1, 2, 3, 4 })
        {
            ids.Add(await fx.InsertEventAsync(user.Id, $"Day {day}", Day(day), org));
        }

        await fx.InsertEventAsync(user.Id, "Undated", null, org);
        var range = (await fx.Api.GetAsync($"/api/events?organization={org}&date__gte=2031-03-02&date__lte=2031-03-03", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal(ids[1..3], range.Ids());
        Assert.Equal("2", range.Header("X-Total-Count"));
        Assert.Equal(ids[1..], (await fx.Api.GetAsync($"/api/events?organization={org}&date__gte=2031-03-02", user.Token)).Is(HttpStatusCode.OK).Ids());
        Assert.Equal(ids[..1], (await fx.Api.GetAsync($"/api/events?organization={org}&date__lte=2031-03-01", user.Token)).Is(HttpStatusCode.OK).Ids());
        Assert.Equal(ids[2..3], (await fx.Api.GetAsync($"/api/events?organization={org}&date=2031-03-03", user.Token)).Is(HttpStatusCode.OK).Ids());
        Assert.Empty((await fx.Api.GetAsync($"/api/events?organization={org}&date__gte=2031-03-04&date__lte=2031-03-03", user.Token)).Is(HttpStatusCode.OK).Array);
        Assert.Equal(5, (await fx.Api.GetAsync($"/api/events?organization={org}", user.Token)).Is(HttpStatusCode.OK).Array.Count);
    }

    [Fact]
    public async Task Search_finds_a_part_of_the_title_in_any_case_and_treats_wildcards_literally()
    {
        var user = await fx.NewUserAsync();
        var tag = EventsTestData.Tag();
        var night = await fx.InsertEventAsync(user.Id, $"{tag} Jazz Night", null);
        var brunch = await fx.InsertEventAsync(user.Id, $"{tag} jazz brunch", null);
        await fx.InsertEventAsync(user.Id, $"{tag} Rock", null);
        var percent = await fx.InsertEventAsync(user.Id, $"{tag} 100% jazz", null);

        Assert.Equal([night, brunch], (await fx.Api.GetAsync($"/api/events?search={tag}%20JAZZ", user.Token)).Is(HttpStatusCode.OK).Ids());
        Assert.Equal([percent], (await fx.Api.GetAsync($"/api/events?search={tag}%20100%25", user.Token)).Is(HttpStatusCode.OK).Ids());
        // Unescaped, "%" and "_" would be wildcards and match "<tag> Jazz Night".
        Assert.Empty((await fx.Api.GetAsync($"/api/events?search={tag}%25Night", user.Token)).Is(HttpStatusCode.OK).Array);
        Assert.Empty((await fx.Api.GetAsync($"/api/events?search={tag}_Jazz", user.Token)).Is(HttpStatusCode.OK).Array);
    }

    [Fact]
    public async Task Ordering_by_date_breaks_ties_by_id_and_undated_events_come_last_ascending()
    {
        var user = await fx.NewUserAsync();
        var org = await fx.NewOrganizationAsync(user.Token);
        var a = await fx.InsertEventAsync(user.Id, "A", Day(10), org);
        var undated = await fx.InsertEventAsync(user.Id, "Undated", null, org);
        var b = await fx.InsertEventAsync(user.Id, "B", Day(10), org);
        var c = await fx.InsertEventAsync(user.Id, "C", Day(9), org);

        Assert.Equal([a, undated, b, c], (await fx.Api.GetAsync($"/api/events?organization={org}", user.Token)).Is(HttpStatusCode.OK).Ids());
        Assert.Equal([c, a, b, undated], (await fx.Api.GetAsync($"/api/events?organization={org}&ordering=date", user.Token)).Is(HttpStatusCode.OK).Ids());
        Assert.Equal([undated, b, a, c], (await fx.Api.GetAsync($"/api/events?organization={org}&ordering=-date", user.Token)).Is(HttpStatusCode.OK).Ids());
        // Paging through tied dates neither repeats nor skips an event.
        var pages = new List<long>();
        for (var offset = 0; offset < 4; offset++)
        {
            pages.AddRange((await fx.Api.GetAsync($"/api/events?organization={org}&ordering=date&limit=1&offset={offset}", user.Token)).Is(HttpStatusCode.OK).Ids());
        }

        Assert.Equal([c, a, b, undated], pages);
    }

    [Theory]
    [InlineData("ordering=bogus", "ordering")]
    [InlineData("ordering=DATE", "ordering")]
    [InlineData("date__gte=2031-13-45", "date__gte")]
    [InlineData("date__lte=yesterday", "date__lte")]
    [InlineData("date=2031-02-30", "date")]
    [InlineData("organization=abc", "organization")]
    [InlineData("limit=0", "limit")]
    public async Task A_bad_query_value_is_400_naming_the_parameter(string query, string parameter)
    {
        var user = await fx.NewUserAsync();
        var reply = (await fx.Api.GetAsync($"/api/events?{query}", user.Token)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]![parameter]);
    }

    [Fact]
    public async Task Pages_carry_the_total_and_next_and_prev_links()
    {
        var user = await fx.NewUserAsync();
        var org = await fx.NewOrganizationAsync(user.Token);
        var ids = new List<long>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await fx.InsertEventAsync(user.Id, $"Paged {i}", Day(20), org));
        }

        var middle = (await fx.Api.GetAsync($"/api/events?organization={org}&ordering=date&limit=2&offset=2", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal(ids[2..4], middle.Ids());
        Assert.Equal("5", middle.Header("X-Total-Count"));
        var link = middle.Header("Link")!;
        Assert.Contains($"organization={org}", link, StringComparison.Ordinal);
        Assert.Contains("limit=2&offset=4>; rel=\"next\"", link, StringComparison.Ordinal);
        Assert.Contains("limit=2&offset=0>; rel=\"prev\"", link, StringComparison.Ordinal);
        var last = (await fx.Api.GetAsync($"/api/events?organization={org}&ordering=date&limit=2&offset=4", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal(ids[4..], last.Ids());
        Assert.DoesNotContain("rel=\"next\"", last.Header("Link"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Items_carry_their_organizations_and_image_url_and_the_organization_filter_matches_any_organizer()
    {
        var user = await fx.NewUserAsync();
        var first = await fx.NewOrganizationAsync(user.Token);
        var second = await fx.NewOrganizationAsync(user.Token);
        var both = await fx.InsertEventAsync(user.Id, "Both", Day(5), "events/poster.png", [second, first]);
        var onlySecond = await fx.InsertEventAsync(user.Id, "Only second", null, second);

        var list = (await fx.Api.GetAsync($"/api/events?organization={first}", user.Token)).Is(HttpStatusCode.OK);
        var item = Assert.Single(list.Array)!;
        Assert.Equal(both, item["id"]!.GetValue<long>());
        Assert.Equal("Both", item["title"]!.GetValue<string>());
        Assert.Equal("About Both", item["description"]!.GetValue<string>());
        Assert.Equal("2031-03-05", item["date"]!.GetValue<string>());
        Assert.Equal("/media/events/poster.png", item["image_url"]!.GetValue<string>());
        Assert.Equal(new[] { first, second }, item["organizations"].LongArray());

        var fromSecond = (await fx.Api.GetAsync($"/api/events?organization={second}", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal([both, onlySecond], fromSecond.Ids());
        Assert.Null(fromSecond.Array[1]!["image_url"]);
        Assert.Null(fromSecond.Array[1]!["date"]);
    }
}

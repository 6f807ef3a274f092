using System.Net;
using Npgsql;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Events;

// GET /api/events caches X-Total-Count per filter with the version of the events tables it was counted at
// (db/0012); every write moves the version in its own transaction. These tests hold the total to the exact count
// after every kind of write, on an instance other than the writer's, and while writes run in parallel.
public sealed class EventTotalsTests(SlicesFixture fx)
{
    private static DateOnly Day(int day) => new(2032, 5, day);

    private static async Task<long> TotalAsync(ApiClient api, string query, string token) =>
        long.Parse((await api.GetAsync($"/api/events?{query}&limit=1", token)).Is(HttpStatusCode.OK).Header("X-Total-Count")!, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public async Task The_total_follows_every_write_that_changes_what_a_filter_matches()
    {
        var admin = await fx.AdminTokenAsync();
        var user = await fx.NewUserAsync();
        var org = await fx.NewOrganizationAsync(user.Token);
        var other = await fx.NewOrganizationAsync(user.Token);
        var tag = EventsTestData.Tag();
        var search = $"search={tag}&date__gte={Day(1):yyyy-MM-dd}&date__lte={Day(31):yyyy-MM-dd}";
        var a = await fx.InsertEventAsync(user.Id, $"{tag} a", Day(3), org);
        var b = await fx.InsertEventAsync(user.Id, $"{tag} b", Day(4), org);
        Assert.Equal(2, await TotalAsync(fx.Api, search, user.Token));
        Assert.Equal(2, await TotalAsync(fx.Api, search, user.Token));
        Assert.Equal(2, await TotalAsync(fx.Api, $"organization={org}", user.Token));

        var c = await fx.InsertEventAsync(user.Id, $"{tag} c", Day(5), other);
        Assert.Equal(3, await TotalAsync(fx.Api, search, user.Token));

        (await fx.Api.PatchAsync($"/api/events/{a}", new { title = "renamed" }, admin)).Is(HttpStatusCode.OK);
        Assert.Equal(2, await TotalAsync(fx.Api, search, user.Token));

        (await fx.Api.PatchAsync($"/api/events/{b}", new { date = "2032-06-01" }, admin)).Is(HttpStatusCode.OK);
        Assert.Equal(1, await TotalAsync(fx.Api, search, user.Token));

        (await fx.Api.PatchAsync($"/api/events/{c}", new { organizations = new[] { org } }, admin)).Is(HttpStatusCode.OK);
        Assert.Equal(3, await TotalAsync(fx.Api, $"organization={org}", user.Token));

        (await fx.Api.DeleteAsync($"/api/events/{c}", admin)).Is(HttpStatusCode.NoContent);
        Assert.Equal(0, await TotalAsync(fx.Api, search, user.Token));
        Assert.Equal(2, await TotalAsync(fx.Api, $"organization={org}", user.Token));

        (await fx.Api.DeleteAsync($"/api/organizations/{org}", admin)).Is(HttpStatusCode.NoContent);
        Assert.Equal(0, await TotalAsync(fx.Api, $"organization={org}", user.Token));
    }

    [Fact]
    public async Task A_total_cached_on_one_instance_is_exact_right_after_a_write_on_another()
    {
        await using var second = await SlicesFixture.StartHostAsync(fx.Database.ConnectionString);
        using var secondApi = new ApiClient(second.Server.CreateClient());
        var admin = await fx.AdminTokenAsync();
        var user = await fx.NewUserAsync();
        var tag = EventsTestData.Tag();
        var ids = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await fx.InsertEventAsync(user.Id, $"{tag} {i}", Day(10)));
        }

        Assert.Equal(3, await TotalAsync(secondApi, $"search={tag}", user.Token));
        (await fx.Api.DeleteAsync($"/api/events/{ids[0]}", admin)).Is(HttpStatusCode.NoContent);
        Assert.Equal(2, await TotalAsync(secondApi, $"search={tag}", user.Token));
        (await fx.Api.PatchAsync($"/api/events/{ids[1]}", new { title = "elsewhere" }, admin)).Is(HttpStatusCode.OK);
        Assert.Equal(1, await TotalAsync(secondApi, $"search={tag}", user.Token));
    }

    [Fact]
    public async Task While_events_are_written_in_parallel_every_total_is_a_count_that_existed_and_the_last_is_exact()
    {
        var user = await fx.NewUserAsync();
        var tag = EventsTestData.Tag();
        const int writers = 20;
        var readTotals = new System.Collections.Concurrent.ConcurrentBag<long>();
        using var go = new SemaphoreSlim(0);
        var writes = Enumerable.Range(0, writers).Select(async i =>
        {
            await go.WaitAsync();
            await fx.InsertEventAsync(user.Id, $"{tag} parallel {i}", Day(20));
        });
        var reads = Enumerable.Range(0, writers).Select(async _ =>
        {
            await go.WaitAsync();
            readTotals.Add(await TotalAsync(fx.Api, $"search={tag}", user.Token));
        });
        var all = writes.Concat(reads).ToList();
        go.Release(2 * writers);
        await Task.WhenAll(all);

        Assert.All(readTotals, t => Assert.InRange(t, 0, writers));
        Assert.Equal(writers, await TotalAsync(fx.Api, $"search={tag}", user.Token));
        await using var conn = new NpgsqlConnection(fx.Database.ConnectionString);
        await conn.OpenAsync(TestContext.Current.CancellationToken);
        await using var count = new NpgsqlCommand("SELECT count(*) FROM events WHERE title LIKE $1", conn) { Parameters = { new() { Value = $"{tag} %" } } };
        Assert.Equal((long)writers, (long)(await count.ExecuteScalarAsync(TestContext.Current.CancellationToken))!);
    }
}

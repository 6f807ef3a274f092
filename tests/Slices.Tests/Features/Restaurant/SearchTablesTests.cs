using System.Net;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Restaurant.RestaurantTestData;

namespace Slices.Tests.Features.Restaurant;

public sealed class SearchTablesTests(SlicesFixture fx)
{
    // Four open tables priced inside this test's own window, and one closed one.
    private sealed record Floor(decimal Base, long Window2, long Booth4, long Room12, long Regular6, long Closed4);

    private async Task<Floor> FloorAsync()
    {
        var admin = await fx.AdminTokenAsync();
        var b = PriceBase();
        async Task<long> Table(string kind, int seats, decimal price, bool open = true) =>
            (await fx.Api.NewTableAsync(admin, kind, seats, b + price, open))["id"]!.GetValue<long>();
        return new Floor(b,
            await Table("regular", 2, 0.10m),
            await Table("cabin", 4, 0.40m),
            await Table("room", 12, 0.90m),
            await Table("regular", 6, 0.60m),
            await Table("cabin", 4, 0.40m, open: false));
    }

    // The ids of this test's tables that a search answers, inside its price window unless the query sets one.
    private async Task<long[]> SearchAsync(Floor f, string query, string? token = null)
    {
        var window = query.Contains("price_", StringComparison.Ordinal) ? "" : $"&price_min={Money(f.Base)}&price_max={Money(f.Base + 1)}";
        var reply = (await fx.Api.GetAsync($"/api/restaurant/tables?limit=500{window}&{query}", token)).Is(HttpStatusCode.OK);
        long[] mine = [f.Window2, f.Booth4, f.Room12, f.Regular6, f.Closed4];
        return reply.Ids().Where(mine.Contains).ToArray();
    }

    [Fact]
    public async Task A_table_is_listed_with_its_current_price_for_anyone()
    {
        var f = await FloorAsync();
        var reply = (await fx.Api.GetAsync($"/api/restaurant/tables?price_min={Money(f.Base + 0.40m)}&price_max={Money(f.Base + 0.40m)}")).Is(HttpStatusCode.OK);
        var booth = reply.Array.Single(t => t!["id"]!.GetValue<long>() == f.Booth4)!;
        Assert.Equal("cabin", booth["kind"]!.GetValue<string>());
        Assert.Equal(4, booth["seats"]!.GetValue<int>());
        Assert.Equal(f.Base + 0.40m, booth["price"]!.GetValue<decimal>());
        Assert.True(booth["can_be_booked"]!.GetValue<bool>());
        Assert.False(string.IsNullOrEmpty(booth["label"]!.GetValue<string>()));
        Assert.NotNull(reply.Header("X-Total-Count"));
    }

    [Fact]
    public async Task Each_filter_keeps_only_the_matching_tables()
    {
        var f = await FloorAsync();
        Assert.Equal([f.Window2, f.Booth4, f.Room12, f.Regular6], await SearchAsync(f, ""));
        Assert.Equal([f.Window2, f.Regular6], await SearchAsync(f, "kind=regular"));
        Assert.Equal([f.Booth4], await SearchAsync(f, "kind=cabin"));
        Assert.Equal([f.Room12], await SearchAsync(f, "kind=room"));
        Assert.Equal([f.Booth4, f.Room12, f.Regular6], await SearchAsync(f, "seats=4"));
        Assert.Equal([f.Room12], await SearchAsync(f, "seats=7"));
        Assert.Empty(await SearchAsync(f, "seats=13"));
        Assert.Equal([f.Booth4, f.Room12, f.Regular6], await SearchAsync(f, $"price_min={Money(f.Base + 0.40m)}&price_max={Money(f.Base + 1)}"));
        Assert.Equal([f.Window2, f.Booth4], await SearchAsync(f, $"price_min={Money(f.Base)}&price_max={Money(f.Base + 0.40m)}"));
    }

    [Fact]
    public async Task Filters_combine()
    {
        var f = await FloorAsync();
        Assert.Equal([f.Regular6], await SearchAsync(f, "kind=regular&seats=3"));
        Assert.Equal([f.Booth4], await SearchAsync(f, $"seats=4&price_min={Money(f.Base)}&price_max={Money(f.Base + 0.50m)}"));
        Assert.Empty(await SearchAsync(f, $"kind=room&price_min={Money(f.Base)}&price_max={Money(f.Base + 0.50m)}"));
        Assert.Equal([f.Room12], await SearchAsync(f, $"kind=room&seats=10&at={Iso(Future())}&duration_minutes=60"));
    }

    [Fact]
    public async Task Closed_tables_are_hidden_from_the_public_and_users_but_shown_to_admins()
    {
        var f = await FloorAsync();
        var user = await fx.NewUserAsync();
        Assert.DoesNotContain(f.Closed4, await SearchAsync(f, "kind=cabin"));
        Assert.DoesNotContain(f.Closed4, await SearchAsync(f, "kind=cabin", user.Token));
        Assert.Equal([f.Booth4, f.Closed4], await SearchAsync(f, "kind=cabin", await fx.AdminTokenAsync()));
        (await fx.Api.GetAsync($"/api/restaurant/tables/{f.Closed4}")).IsProblem(HttpStatusCode.NotFound, "not_found");
        var closed = (await fx.Api.GetAsync($"/api/restaurant/tables/{f.Closed4}", await fx.AdminTokenAsync())).Is(HttpStatusCode.OK).Body!;
        Assert.False(closed["can_be_booked"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_table_is_free_at_a_time_unless_a_confirmed_reservation_overlaps_it()
    {
        var f = await FloorAsync();
        var admin = await fx.AdminTokenAsync();
        var at = Future(days: 40, hour: 19);
        // The booth: confirmed 19:00-21:00. The regular table: only a pending request then, which does not take it.
        var confirmed = await fx.Api.RequestIdAsync(f.Booth4, at);
        (await fx.Api.ConfirmAsync(confirmed, admin)).Is(HttpStatusCode.OK);
        await fx.Api.RequestIdAsync(f.Regular6, at);

        var all = new[] { f.Window2, f.Booth4, f.Room12, f.Regular6 };
        Assert.Equal(all.Except([f.Booth4]), await SearchAsync(f, $"at={Iso(at)}"));
        Assert.Equal(all.Except([f.Booth4]), await SearchAsync(f, $"at={Iso(at.AddMinutes(119))}&duration_minutes=30"));
        Assert.Equal(all.Except([f.Booth4]), await SearchAsync(f, $"at={Iso(at.AddMinutes(-60))}&duration_minutes=61"));
        // Touching ends do not overlap: [17:00, 19:00) and [21:00, …) are free.
        Assert.Equal(all, await SearchAsync(f, $"at={Iso(at.AddHours(-2))}"));
        Assert.Equal(all, await SearchAsync(f, $"at={Iso(at.AddHours(2))}&duration_minutes=480"));
        // Two hours by default: 17:01 runs into 19:00.
        Assert.Equal(all.Except([f.Booth4]), await SearchAsync(f, $"at={Iso(at.AddMinutes(-119))}"));
        // An instant without an offset is UTC, whatever the server's time zone (the framework binds query instants so).
        Assert.Equal(all.Except([f.Booth4]), await SearchAsync(f, $"at={Naive(at)}"));
        Assert.Equal(all, await SearchAsync(f, $"at={Naive(at.AddHours(-2))}"));
    }

    [Theory]
    [InlineData("kind=terrace", "kind")]
    [InlineData("seats=0", "seats")]
    [InlineData("seats=abc", "seats")]
    [InlineData("price_min=-1", "price_min")]
    [InlineData("price_min=20&price_max=10", "price_max")]
    [InlineData("price_max=cheap", "price_max")]
    [InlineData("at=tomorrow", "at")]
    [InlineData("duration_minutes=60", "at")]
    [InlineData("at=2030-01-01T10:00:00Z&duration_minutes=29", "duration_minutes")]
    [InlineData("at=2030-01-01T10:00:00Z&duration_minutes=481", "duration_minutes")]
    public async Task A_bad_search_parameter_is_400_naming_it(string query, string field)
    {
        var reply = (await fx.Api.GetAsync($"/api/restaurant/tables?{query}")).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(reply.Body!["errors"]![field]);
    }

    [Fact]
    public async Task A_table_without_a_price_is_listed_with_a_null_price_and_left_out_by_price_filters()
    {
        var admin = await fx.AdminTokenAsync();
        var table = await fx.Api.NewTableAsync(admin, "room", 31, price: null);
        var id = table["id"]!.GetValue<long>();
        Assert.True(table.AsObject().ContainsKey("price"));
        Assert.Null(table["price"]);
        var listed = (await fx.Api.GetAsync($"/api/restaurant/tables/{id}")).Is(HttpStatusCode.OK).Body!;
        Assert.Null(listed["price"]);
        var priced = (await fx.Api.GetAsync("/api/restaurant/tables?kind=room&seats=31&price_min=0&limit=500")).Is(HttpStatusCode.OK);
        Assert.DoesNotContain(id, priced.Ids());
    }
}

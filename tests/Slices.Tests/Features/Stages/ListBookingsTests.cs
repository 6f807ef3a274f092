using System.Globalization;
using System.Net;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Stages.StageTestData;

namespace Slices.Tests.Features.Stages;

public sealed class ListBookingsTests(SlicesFixture fx)
{
    private static string Day(DateOnly d, int offset) => d.AddDays(offset).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    [Fact]
    public async Task A_user_lists_only_own_bookings_filtered_by_stage_date_range_and_active()
    {
        var (user, other) = (await fx.NewUserAsync(), await fx.NewUserAsync());
        var (stage, elsewhere) = (await fx.NewStageIdAsync(), await fx.NewStageIdAsync());
        var d = DateOnly.Parse(FutureDate(), CultureInfo.InvariantCulture);
        var a = (await fx.BookAsync(user.Token, stage, Day(d, 0), "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        var b = (await fx.BookAsync(user.Token, stage, Day(d, 1), "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        var c = (await fx.BookAsync(user.Token, stage, Day(d, 2), "10:00", "11:00", active: false)).Is(HttpStatusCode.Created).Id;
        var e = (await fx.BookAsync(user.Token, elsewhere, Day(d, 0), "12:00", "13:00")).Is(HttpStatusCode.Created).Id;
        (await fx.BookAsync(other.Token, stage, Day(d, 0), "14:00", "15:00")).Is(HttpStatusCode.Created);

        Task<long[]> List(string query) => fx.Api.GetAsync($"/api/bookings?{query}", user.Token).ContinueWith(t => t.Result.Is(HttpStatusCode.OK).Ids(), TaskScheduler.Default);

        Assert.Equal([a, b, c], await List($"stage={stage}"));
        Assert.Equal([a, e], await List($"date={Day(d, 0)}"));
        Assert.Equal([b, c], await List($"stage={stage}&date_from={Day(d, 1)}"));
        Assert.Equal([a, b], await List($"stage={stage}&date_to={Day(d, 1)}"));
        Assert.Equal([b], await List($"date_from={Day(d, 1)}&date_to={Day(d, 1)}"));
        Assert.Equal([c], await List($"stage={stage}&active=false"));
        Assert.Equal([a, b], await List($"stage={stage}&active=true"));
        Assert.Equal(4, (await fx.Api.GetAsync($"/api/bookings?date_from={Day(d, 0)}&date_to={Day(d, 2)}", user.Token)).Array.Count);
    }

    [Fact]
    public async Task The_list_is_ordered_by_date_and_time_and_paged()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var date = FutureDate();
        var late = (await fx.BookAsync(user.Token, stage, date, "15:00", "16:00")).Is(HttpStatusCode.Created).Id;
        var early = (await fx.BookAsync(user.Token, stage, date, "09:00", "10:00")).Is(HttpStatusCode.Created).Id;
        var middle = (await fx.BookAsync(user.Token, stage, date, "12:00", "13:00")).Is(HttpStatusCode.Created).Id;

        var first = (await fx.Api.GetAsync($"/api/bookings?stage={stage}&limit=2", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal([early, middle], first.Ids());
        Assert.Equal("3", first.Header("X-Total-Count"));
        Assert.Contains("rel=\"next\"", first.Header("Link"), StringComparison.Ordinal);
        var second = (await fx.Api.GetAsync($"/api/bookings?stage={stage}&limit=2&offset=2", user.Token)).Is(HttpStatusCode.OK);
        Assert.Equal([late], second.Ids());
        Assert.Contains("rel=\"prev\"", second.Header("Link"), StringComparison.Ordinal);
        Assert.DoesNotContain("rel=\"next\"", second.Header("Link"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_filters_are_400_naming_the_parameter()
    {
        var user = await fx.NewUserAsync();
        foreach (var (query, field) in new[] { ("active=maybe", "active"), ("date_from=soon", "date_from"), ("stage=x", "stage"), ("date=2030-02-30", "date") })
        {
            var reply = (await fx.Api.GetAsync($"/api/bookings?{query}", user.Token)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
            Assert.NotNull(reply.Body!["errors"]![field]);
        }

        var backwards = (await fx.Api.GetAsync("/api/bookings?date_from=2030-02-02&date_to=2030-02-01", user.Token)).IsProblem(HttpStatusCode.BadRequest, "validation_failed");
        Assert.NotNull(backwards.Body!["errors"]!["date_to"]);
    }
}

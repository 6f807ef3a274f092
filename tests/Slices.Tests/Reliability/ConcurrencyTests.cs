using System.Net;
using Npgsql;
using Slices.Tests.Features.Orders;
using Slices.Tests.Features.Restaurant;
using Slices.Tests.Features.Stages;
using Slices.Tests.Features.Trainings;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Reliability;

// Every invariant that concurrency could break, attacked with 50+ requests really in flight at once, three rounds
// each: the exact number of winners, and the final state read back from PostgreSQL. (Job claiming is attacked the
// same way in Work/JobQueueTests: 200 jobs, two instances, each job once.)
public sealed class ConcurrencyTests(SlicesFixture fx)
{
    private const int Clients = 50;

    private async Task<long> ScalarAsync(string sql, params object[] args)
    {
        await using var conn = new NpgsqlConnection(fx.Database.ConnectionString);
        await conn.OpenAsync(TestContext.Current.CancellationToken);
        await using var cmd = new NpgsqlCommand(sql, conn);
        foreach (var a in args)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = a });
        }

        return Convert.ToInt64(await cmd.ExecuteScalarAsync(TestContext.Current.CancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task<Reply[]> AllAtOnceAsync(int count, Func<int, Task<Reply>> request)
    {
        using var start = new SemaphoreSlim(0);
        var calls = Enumerable.Range(0, count).Select(async i =>
        {
            await start.WaitAsync(TestContext.Current.CancellationToken);
            return await request(i);
        }).ToArray();
        start.Release(count);
        return await Task.WhenAll(calls);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task One_stage_slot_has_one_winner(int round)
    {
        var users = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => fx.NewUserAsync()));
        var stage = await fx.NewStageIdAsync();
        var date = StageTestData.FutureDate();
        var replies = await AllAtOnceAsync(Clients + round, i => fx.BookAsync(users[i % users.Length].Token, stage, date, "10:00", "12:00"));

        Assert.Single(replies, r => r.Status == HttpStatusCode.Created);
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.Created), r => r.IsProblem(HttpStatusCode.Conflict, "booking_conflict"));
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM bookings WHERE stage_id = $1 AND active", stage));
    }

    // Concurrent inserts checked by an exclusion constraint can wait for each other: PostgreSQL's deadlock detector
    // then kills one after deadlock_timeout (1 s), and a request that lost three times was a 500 (the benchmark's
    // booking race found it: 31 × 500 in one round). Bookings of one stage are therefore taken in turn (the stage row
    // is locked FOR NO KEY UPDATE first), and this race, on a database of its own, must leave PostgreSQL's deadlock
    // counter at zero. With the stage row only share-locked it does not.
    [Fact]
    public async Task A_stage_slot_race_causes_no_deadlocks()
    {
        var ct = TestContext.Current.CancellationToken;
        var database = await fx.Database.CreateDatabaseAsync($"race_{Guid.NewGuid():N}");
        await using (var host = await SlicesFixture.StartHostAsync(database))
        {
            using var api = new ApiClient(host.Server.CreateClient());
            var admin = (await api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;
            var users = await Task.WhenAll(Enumerable.Range(0, 5).Select(_ => api.SignUpAsync()));
            var stage = (await api.PostAsync("/api/stages", new { name = "Race", open_time = "00:00", close_time = "23:59" }, admin)).Is(HttpStatusCode.Created).Id;
            for (var round = 0; round < 20; round++)
            {
                var date = DateOnly.FromDateTime(DateTime.Now).AddDays(30 + round).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
                var replies = await AllAtOnceAsync(Clients, i => api.PostAsync("/api/bookings", new { stage, date, start_time = "10:00", finish_time = "12:00" }, users[i % users.Length].Token));
                Assert.Single(replies, r => r.Status == HttpStatusCode.Created);
                Assert.All(replies.Where(r => r.Status != HttpStatusCode.Created), r => r.IsProblem(HttpStatusCode.Conflict, "booking_conflict"));
            }
        }

        // Server processes report their statistics when they end: DeadlocksAsync ends the database's other connections
        // first, then reads the counter.
        Assert.Equal(0L, await TestDatabase.DeadlocksAsync(database, ct));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Cassette_stock_is_sold_exactly_once_and_never_below_zero(int round)
    {
        var buyer = await fx.NewUserAsync();
        var cassette = await Shop.CassetteAsync(fx, quantity: 10 + round);
        var replies = await AllAtOnceAsync(Clients + 10, _ => fx.Api.PostAsync("/api/orders", Shop.Items((cassette, 1)), buyer.Token));

        Assert.Equal(10 + round, replies.Count(r => r.Status == HttpStatusCode.Created));
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.Created), r => r.IsProblem(HttpStatusCode.Conflict, "out_of_stock"));
        Assert.Equal(0, await ScalarAsync("SELECT quantity FROM cassettes WHERE id = $1", cassette));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Training_capacity_is_never_exceeded(int round)
    {
        var members = await Task.WhenAll(Enumerable.Range(0, Clients).Select(_ => fx.NewUserAsync()));
        var group = await fx.NewGroupAsync(members);
        var training = await fx.NewTrainingAsync(group, StageTestData.FutureDate(), capacity: 20 + round);
        var replies = await AllAtOnceAsync(Clients, i => fx.Api.PostAsync($"/api/trainings/{training}/enroll", null, members[i].Token));

        Assert.Equal(20 + round, replies.Count(r => r.Status == HttpStatusCode.OK));
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.OK), r => r.IsProblem(HttpStatusCode.Conflict, "training_full"));
        Assert.Equal(20 + round, await ScalarAsync("SELECT count(*) FROM training_enrollments WHERE training_id = $1", training));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task One_idempotency_key_executes_once(int round)
    {
        var buyer = await fx.NewUserAsync();
        var cassette = await Shop.CassetteAsync(fx, quantity: 100);
        var key = new Dictionary<string, string> { ["Idempotency-Key"] = $"round-{round}-{Guid.NewGuid()}" };
        var replies = await AllAtOnceAsync(Clients, _ => fx.Api.PostAsync("/api/orders", Shop.Items((cassette, 2)), buyer.Token, key));

        Assert.All(replies, r => r.Is(HttpStatusCode.Created));
        Assert.Single(replies.Select(r => r.Id).Distinct());
        Assert.Equal(Clients - 1, replies.Count(r => r.Header("Idempotent-Replayed") == "true"));
        Assert.Equal(98, await ScalarAsync("SELECT quantity FROM cassettes WHERE id = $1", cassette));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task One_refresh_token_is_spent_once(int round)
    {
        var user = await fx.NewUserAsync();
        var replies = await AllAtOnceAsync(Clients + round, _ => fx.Api.PostAsync("/api/auth/refresh", new { refresh_token = user.RefreshToken }));

        Assert.Single(replies, r => r.Status == HttpStatusCode.OK);
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.Unauthorized, r.Status));
        Assert.Equal(1, await ScalarAsync(
            "SELECT count(*) FROM refresh_tokens rt JOIN sessions s ON s.id = rt.session_id WHERE s.user_id = $1 AND rt.spent_at IS NOT NULL", user.Id));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Overlapping_confirmations_of_one_table_have_one_winner(int round)
    {
        var admin = await fx.AdminTokenAsync();
        var table = await fx.Api.NewTableIdAsync(admin, seats: 8);
        var start = RestaurantTestData.Future(days: 40 + round);
        var requests = new List<long>();
        for (var i = 0; i < Clients; i++)
        {
            // Every request overlaps every other: starts within the same two hours.
            requests.Add(await fx.Api.RequestIdAsync(table, start.AddMinutes(i % 60), duration: 120));
        }

        var replies = await AllAtOnceAsync(Clients, i => fx.Api.ConfirmAsync(requests[i], admin));

        Assert.Single(replies, r => r.Status == HttpStatusCode.OK);
        Assert.All(replies.Where(r => r.Status != HttpStatusCode.OK), r => r.IsProblem(HttpStatusCode.Conflict, "reservation_conflict"));
        Assert.Equal(1, await ScalarAsync("SELECT count(*) FROM restaurant_reservations WHERE table_id = $1 AND status = 'confirmed'", table));
    }
}

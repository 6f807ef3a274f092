using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using Slices.Tests.Infrastructure;
using Slices.Tests.Work;

namespace Slices.Tests.Features.Waitlists;

// One service instance as a waitlist test drives it: its client, an admin's token, and its database, read directly to
// count what the service wrote (offers, holds, emails) and to wait for the offer jobs.
public sealed record Service(ApiClient Api, string Admin, string ConnectionString)
{
    public static async Task<Service> OfAsync(SlicesFixture fx) => new(fx.Api, await fx.AdminTokenAsync(), fx.Database.ConnectionString);

    public static async Task<Service> OfAsync(WorkHost host) =>
        new(host.Api, (await host.Api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token, host.ConnectionString);

    // A fresh user; with an email address, the offers reach them by mail.
    public async Task<TestUser> NewUserAsync(string? email = null)
    {
        if (email is null)
        {
            return await Api.SignUpAsync();
        }

        var username = $"w_{Guid.NewGuid():N}";
        var reply = (await Api.PostAsync("/api/auth/signup", new { username, password = "correct-horse-1", email, first_name = "Wendy" })).Is(HttpStatusCode.Created);
        return new TestUser(reply.Body!["user"]!["id"]!.GetValue<long>(), username, "correct-horse-1", reply.Body["access_token"]!.GetValue<string>(), reply.Body["refresh_token"]!.GetValue<string>());
    }

    // A training of a fresh group of members, 30–400 days ahead.
    public async Task<long> NewTrainingAsync(int? capacity, params TestUser[] members)
    {
        var group = (await Api.PostAsync("/api/groups", new { name = $"line {Guid.NewGuid():N}", description = "test" }, Admin)).Is(HttpStatusCode.Created).Id;
        foreach (var member in members)
        {
            (await Api.PostAsync($"/api/groups/{group}/users", new { user = member.Id }, Admin)).Is(HttpStatusCode.Created);
        }

        var date = DateOnly.FromDateTime(DateTime.Now).AddDays(Random.Shared.Next(30, 400)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return (await Api.PostAsync("/api/trainings", new { date, start_time = "18:00", end_time = "19:30", price = 10m, group, capacity }, Admin))
            .Is(HttpStatusCode.Created).Id;
    }

    public async Task<long> NewStageAsync() =>
        (await Api.PostAsync("/api/stages", new { name = $"stage {Guid.NewGuid():N}", address = "street", description = "A test stage", open_time = "09:00", close_time = "22:00", services = Array.Empty<long>() }, Admin))
            .Is(HttpStatusCode.Created).Id;

    public async Task EnrolAsync(long training, params TestUser[] users)
    {
        foreach (var user in users)
        {
            (await Api.PostAsync($"/api/trainings/{training}/enroll", null, user.Token)).Is(HttpStatusCode.OK);
        }
    }

    public Task<Reply> JoinAsync(long training, TestUser user) => Api.PostAsync($"/api/trainings/{training}/waitlist", null, user.Token);

    public async Task<long> WaitAsync(long training, params TestUser[] users)
    {
        var last = 0L;
        foreach (var user in users)
        {
            last = (await JoinAsync(training, user)).Is(HttpStatusCode.Created).Id;
        }

        return last;
    }

    public Task<Reply> JoinStageAsync(long stage, TestUser user, string date, string start, string end) =>
        Api.PostAsync($"/api/stages/{stage}/waitlist", new { date, start_time = start, end_time = end }, user.Token);

    public Task<Reply> BookAsync(TestUser user, long stage, string date, string start, string finish) =>
        Api.PostAsync("/api/bookings", new { stage, date, start_time = start, finish_time = finish }, user.Token);

    // The entry's status and offer hold, as stored.
    public async Task<(string Status, long? Hold)> EntryAsync(long entry)
    {
        await using var conn = await OpenAsync();
        var row = await conn.QuerySingleAsync<(string, long?)>("SELECT status, hold_id FROM waitlist_entries WHERE id = @entry", new { entry });
        return row;
    }

    // Waits until the entry has the status (for seconds at most) and returns its offer hold.
    public async Task<long?> UntilAsync(long entry, string status, int seconds = 15)
    {
        (string Status, long? Hold) last = default;
        await Eventually.HoldsAsync(async () => (last = await EntryAsync(entry)).Status == status, () => $"entry {entry} is {last.Status}", seconds);
        return last.Hold;
    }

    // Waits until no offer job for the training is queued or running, so that nothing more can be offered to its line
    // unless a place frees again.
    public Task UntilOffersSettledAsync(long training) => Eventually.HoldsAsync(
        async () => await ScalarAsync<long>(
            "SELECT count(*) FROM jobs WHERE kind = 'waitlist.offer' AND state IN ('pending', 'running') AND payload @> jsonb_build_object('training', @training)",
            new { training }) == 0,
        () => $"offer jobs for training {training} are still queued");

    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = await OpenAsync();
        return (await conn.ExecuteScalarAsync<T>(sql, args))!;
    }

    public async Task<NpgsqlConnection> OpenAsync()
    {
        var conn = new NpgsqlConnection(ConnectionString);
        await conn.OpenAsync(TestContext.Current.CancellationToken);
        return conn;
    }

    public static string FutureDate() => DateOnly.FromDateTime(DateTime.Now).AddDays(Random.Shared.Next(30, 400)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static long[] UsersIn(Reply list) => list.Array.Select(e => e!["user"]!.GetValue<long>()).ToArray();

    public static int[] Positions(Reply list) => list.Array.Select(e => e!["position"]!.GetValue<int>()).ToArray();

    public static JsonNode OnlyEntry(Reply list) => Assert.Single(list.Array)!;
}

using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Stages;

// Unique services and stages for one test, and a random future date, so tests never share a slot.
internal static class StageTestData
{
    // A day 30–400 days ahead of the real clock: never "in the past", rarely the same for two tests.
    public static string FutureDate() => DateOnly.FromDateTime(DateTime.Now).AddDays(Random.Shared.Next(30, 400)).ToString("yyyy-MM-dd");

    public static string Unique(string prefix) => $"{prefix} {Guid.NewGuid():N}";

    public static async Task<long> NewServiceAsync(this SlicesFixture fx, string? name = null) =>
        (await fx.Api.PostAsync("/api/services", new { name = name ?? Unique("service") }, await fx.AdminTokenAsync())).Is(HttpStatusCode.Created).Id;

    // A stage open 09:00–22:00 unless told otherwise.
    public static async Task<JsonNode> NewStageAsync(
        this SlicesFixture fx, long[]? services = null, string open = "09:00", string close = "22:00", string? name = null, string? address = null)
    {
        var body = new { name = name ?? Unique("stage"), address = address ?? Unique("street"), description = "A test stage", open_time = open, close_time = close, services = services ?? [] };
        return (await fx.Api.PostAsync("/api/stages", body, await fx.AdminTokenAsync())).Is(HttpStatusCode.Created).Body!;
    }

    public static async Task<long> NewStageIdAsync(this SlicesFixture fx, string open = "09:00", string close = "22:00") =>
        (await fx.NewStageAsync(open: open, close: close))["id"]!.GetValue<long>();

    public static Task<Reply> BookAsync(this SlicesFixture fx, string token, long stage, string date, string start, string finish, bool? active = null) =>
        fx.Api.PostAsync("/api/bookings", active is null
            ? (object)new { stage, date, start_time = start, finish_time = finish }
            : new { stage, date, start_time = start, finish_time = finish, active }, token);

    // Yesterday by the service's clock: the machine's local time, as the booking rules read it.
    public static string Yesterday() => YesterdayDate.ToString("yyyy-MM-dd");

    // An active booking of user's yesterday, 10:00–11:00: made while that day was still ahead. The API refuses to
    // create one, so it goes into the table directly.
    public static async Task<long> PastBookingAsync(this SlicesFixture fx, long user, long stage)
    {
        await using var conn = new NpgsqlConnection(fx.Database.ConnectionString);
        await conn.OpenAsync(TestContext.Current.CancellationToken);
        await using var insert = new NpgsqlCommand(
            "INSERT INTO bookings (user_id, stage_id, date, start_time, finish_time) VALUES ($1, $2, $3, '10:00', '11:00') RETURNING id", conn)
        {
            Parameters = { new() { Value = user }, new() { Value = stage }, new() { Value = YesterdayDate } },
        };
        return (long)(await insert.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    // Deletes row id of table in a transaction held open until write, sent meanwhile, waits for that delete's lock;
    // then commits. So the write starts while the row is there and meets it deleted: a delete between read and update.
    // table is a table name from the test's code.
    public static async Task<Reply> DeletedDuringAsync(this SlicesFixture fx, string table, long id, Func<Task<Reply>> write)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var deleter = new NpgsqlConnection(fx.Database.ConnectionString);
        await deleter.OpenAsync(ct);
        await using var tx = await deleter.BeginTransactionAsync(ct);
        await using (var delete = new NpgsqlCommand($"DELETE FROM {table} WHERE id = $1", deleter, tx) { Parameters = { new() { Value = id } } })
        {
            Assert.Equal(1, await delete.ExecuteNonQueryAsync(ct));
        }

        var reply = write();
        await fx.UntilBlockedByAsync(deleter.ProcessID, reply);
        await tx.CommitAsync(ct);
        return await reply;
    }

    // Returns once some session waits for a lock that the server process blocker holds; fails if request, which is
    // to be that session, finishes first or nothing waits within ten seconds.
    public static async Task UntilBlockedByAsync(this SlicesFixture fx, int blocker, Task request)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var probe = new NpgsqlConnection(fx.Database.ConnectionString);
        await probe.OpenAsync(ct);
        await using var waits = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted AND $1 = ANY (pg_blocking_pids(pid)))", probe)
        {
            Parameters = { new() { Value = blocker } },
        };
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!(bool)(await waits.ExecuteScalarAsync(ct))!)
        {
            Assert.False(request.IsCompleted, "The request finished without waiting for the lock.");
            Assert.True(DateTime.UtcNow < deadline, "The request never waited for the lock.");
            await Task.Delay(20, ct);
        }
    }

    public static long[] Ids(this Reply reply) => reply.Array.Select(n => n!["id"]!.GetValue<long>()).ToArray();

    public static Dictionary<string, string> IfMatch(string etag) => new() { ["If-Match"] = etag };

    private static DateOnly YesterdayDate => DateOnly.FromDateTime(DateTime.Now).AddDays(-1);
}

using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Features.Trainings;

// Test data for the training schedule, made through the API as an admin: a fresh group per test.
public static class Schedule
{
    public static async Task<long> NewGroupAsync(this SlicesFixture fx, params TestUser[] members)
    {
        var admin = await fx.AdminTokenAsync();
        var group = (await fx.Api.PostAsync("/api/groups", new { name = $"group {Guid.NewGuid():N}", description = "test" }, admin))
            .Is(HttpStatusCode.Created).Id;
        foreach (var member in members)
        {
            await fx.AddMemberAsync(group, member);
        }

        return group;
    }

    public static async Task AddMemberAsync(this SlicesFixture fx, long group, TestUser member) =>
        (await fx.Api.PostAsync($"/api/groups/{group}/users", new { user = member.Id }, await fx.AdminTokenAsync())).Is(HttpStatusCode.Created);

    public static async Task<long> NewTrainingAsync(this SlicesFixture fx, long group, string date, int? capacity = null, decimal price = 10m) =>
        (await fx.Api.PostAsync("/api/trainings", new { date, start_time = "18:00", end_time = "19:30", price, group, capacity }, await fx.AdminTokenAsync()))
            .Is(HttpStatusCode.Created).Id;

    public static async Task<long> MarkAsync(this SlicesFixture fx, long training, TestUser user, string status) =>
        (await fx.Api.PostAsync("/api/attendances", new { training, user = user.Id, status }, await fx.AdminTokenAsync())).Is(HttpStatusCode.Created).Id;

    public static long[] Ids(this Reply reply) => reply.Array.Select(n => n!["id"]!.GetValue<long>()).ToArray();

    public static long[] Longs(this JsonNode? array) => array!.AsArray().Select(n => n!.GetValue<long>()).ToArray();

    // Returns once `sessions` server processes wait, directly or behind one another, for a lock that the server process
    // blocker holds, or once request is done (what it waited for is then for the test to check). Fails after ten seconds.
    public static async Task UntilWaitingAsync(this SlicesFixture fx, int blocker, int sessions, Task request)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var probe = new NpgsqlConnection(fx.Database.ConnectionString);
        await probe.OpenAsync(ct);
        await using var waiting = new NpgsqlCommand("""
            WITH RECURSIVE waiting (pid) AS (
                SELECT pid FROM pg_stat_activity WHERE $1 = ANY (pg_blocking_pids(pid))
                UNION
                SELECT a.pid FROM pg_stat_activity a JOIN waiting w ON w.pid = ANY (pg_blocking_pids(a.pid)))
            SELECT count(*) FROM waiting
            """, probe)
        {
            Parameters = { new() { Value = blocker } },
        };
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!request.IsCompleted && (long)(await waiting.ExecuteScalarAsync(ct))! < sessions)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Fewer than {sessions} sessions waited for the lock.");
            await Task.Delay(20, ct);
        }
    }

    // Locks rows in a transaction of the test's own (sql selects them FOR ...; parameter is $1), so that requests wait for
    // them until ReleaseAsync commits, or the lock is disposed.
    public static Task<RowLock> LockRowsAsync(this SlicesFixture fx, string sql, object parameter) => RowLock.TakeAsync(fx, sql, parameter);
}

public sealed class RowLock : IAsyncDisposable
{
    private readonly NpgsqlConnection conn;
    private readonly NpgsqlTransaction tx;

    private RowLock(NpgsqlConnection conn, NpgsqlTransaction tx) => (this.conn, this.tx) = (conn, tx);

    // The holding server process, for UntilWaitingAsync.
    public int Pid => conn.ProcessID;

    public static async Task<RowLock> TakeAsync(SlicesFixture fx, string sql, object parameter)
    {
        var ct = TestContext.Current.CancellationToken;
        var conn = new NpgsqlConnection(fx.Database.ConnectionString);
        await conn.OpenAsync(ct);
        var tx = await conn.BeginTransactionAsync(ct);
        await using var hold = new NpgsqlCommand(sql, conn, tx) { Parameters = { new() { Value = parameter } } };
        await using (var rows = await hold.ExecuteReaderAsync(ct))
        {
            Assert.True(await rows.ReadAsync(ct), $"Nothing to lock: {sql}");
        }

        return new RowLock(conn, tx);
    }

    public Task ReleaseAsync() => tx.CommitAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync()
    {
        await tx.DisposeAsync();
        await conn.DisposeAsync();
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using Alba;
using Dapper;
using Npgsql;
using Slices.Tests.Infrastructure;
using Slices.Tests.Work;
using static Slices.Tests.Features.Stages.StageTestData;

namespace Slices.Tests.Features.Stages;

// GET /api/stages/{id} answers from memory (Features/Stages/StageCache). These tests hold it to the database: at once
// after a write through the same instance, within two seconds (the NOTIFY's milliseconds) after any other change,
// also while reads race the change, and after the cache's LISTEN connection is lost.
public sealed class StageCacheTests(SlicesFixture fx)
{
    private static readonly CancellationToken Ct = TestContext.Current.CancellationToken;

    private static async Task<string> NameAsync(ApiClient api, long id, string token) =>
        (await api.GetAsync($"/api/stages/{id}", token)).Is(HttpStatusCode.OK).Body!["name"]!.GetValue<string>();

    // Reads until the stage is named `expected`, for at most two seconds; then it must stay so.
    internal static async Task NamedSoonAsync(ApiClient api, long id, string token, string expected, string why)
    {
        await Eventually.HoldsAsync(async () => await NameAsync(api, id, token) == expected, () => why, seconds: 2);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(expected, await NameAsync(api, id, token));
        }
    }

    private static async Task SqlAsync(string database, string sql, object args)
    {
        await using var conn = new NpgsqlConnection(database);
        await conn.ExecuteAsync(new CommandDefinition(sql, args, cancellationToken: Ct));
    }

    private Task SqlAsync(string sql, object args) => SqlAsync(fx.Database.ConnectionString, sql, args);

    [Fact]
    public async Task Every_write_through_this_instance_shows_on_its_next_read_before_any_notification()
    {
        await using var own = await OwnInstance.StartAsync(fx);
        var service = (await own.Api.PostAsync("/api/services", new { name = "sound" }, own.Admin)).Is(HttpStatusCode.Created).Id;
        var id = (await own.Api.PostAsync("/api/stages", new { name = "before", open_time = "09:00", close_time = "17:00" }, own.Admin)).Is(HttpStatusCode.Created).Id;
        var url = $"/api/stages/{id}";
        var listener = await own.ListenerAsync();
        (await own.Api.GetAsync(url, own.Admin)).Is(HttpStatusCode.OK);

        // The listener's server process is stopped, so no notification reaches the instance: what it reads right
        // after its own writes is fresh because it evicts them itself.
        await SignalAsync(listener, "STOP");
        try
        {
            for (var round = 0; round < 3; round++)
            {
                var replaced = (await own.Api.PutAsync(url, new { name = $"put {round}", open_time = "10:00", close_time = "20:00" }, own.Admin)).Is(HttpStatusCode.OK);
                var read = (await own.Api.GetAsync(url, own.Admin)).Is(HttpStatusCode.OK);
                Assert.Equal($"put {round}", read.Body!["name"]!.GetValue<string>());
                Assert.Equal(replaced.Header("ETag"), read.Header("ETag"));

                (await own.Api.PatchAsync(url, new { services = new[] { service } }, own.Admin)).Is(HttpStatusCode.OK);
                Assert.Equal([service], (await own.Api.GetAsync(url, own.Admin)).Is(HttpStatusCode.OK).Body!["services"]!.AsArray().Select(s => s!.GetValue<long>()));
                (await own.Api.PatchAsync(url, new { services = Array.Empty<long>() }, own.Admin)).Is(HttpStatusCode.OK);
                Assert.Empty((await own.Api.GetAsync(url, own.Admin)).Is(HttpStatusCode.OK).Body!["services"]!.AsArray());
            }

            (await own.Api.DeleteAsync(url, own.Admin)).Is(HttpStatusCode.NoContent);
            (await own.Api.GetAsync(url, own.Admin)).IsProblem(HttpStatusCode.NotFound, "not_found");
        }
        finally
        {
            await SignalAsync(listener, "CONT");
        }
    }

    [Fact]
    public async Task The_api_document_says_how_fresh_a_stage_is()
    {
        var doc = (await fx.Api.GetAsync("/openapi/v1.json")).Is(HttpStatusCode.OK).Body!;
        var get = doc["paths"]!["/api/stages/{id}"]!["get"]!;
        Assert.StartsWith("Served from memory until the stage changes", get["description"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_change_made_elsewhere_reaches_the_cache_through_postgresql()
    {
        var user = await fx.NewUserAsync();
        var service = await fx.NewServiceAsync();
        var id = (await fx.NewStageAsync())["id"]!.GetValue<long>();
        await NameAsync(fx.Api, id, user.Token);

        // Another instance, or anyone with SQL: the stage's own row, then the services it offers.
        await SqlAsync("UPDATE stages SET name = 'renamed elsewhere' WHERE id = @id", new { id });
        await NamedSoonAsync(fx.Api, id, user.Token, "renamed elsewhere", "a stage renamed in the database is still served by its old name");

        await SqlAsync("INSERT INTO stage_services (stage_id, service_id) VALUES (@id, @service)", new { id, service });
        await Eventually.HoldsAsync(
            async () => (await fx.Api.GetAsync($"/api/stages/{id}", user.Token)).Is(HttpStatusCode.OK).Body!["services"]!.AsArray().Count == 1,
            () => "a service linked in the database is not shown", seconds: 2);

        await SqlAsync("DELETE FROM stage_services WHERE stage_id = @id; DELETE FROM stages WHERE id = @id", new { id });
        await Eventually.HoldsAsync(
            async () => (await fx.Api.GetAsync($"/api/stages/{id}", user.Token)).Status == HttpStatusCode.NotFound,
            () => "a stage deleted in the database is still served", seconds: 2);
    }

    [Fact]
    public async Task Reads_racing_a_change_never_leave_the_old_stage_cached()
    {
        var user = await fx.NewUserAsync();
        var id = (await fx.NewStageAsync())["id"]!.GetValue<long>();
        for (var round = 0; round < 20; round++)
        {
            // Eight readers fill the cache while changes commit back to back and their notifications evict: a read
            // that began before a commit (on a miss after the previous eviction) must not be kept after the eviction.
            using var stop = new CancellationTokenSource();
            var readers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    await NameAsync(fx.Api, id, user.Token);
                }
            }, Ct)).ToArray();
            await Task.Delay(10, Ct);
            for (var change = 0; change < 3; change++)
            {
                await SqlAsync("UPDATE stages SET name = @name WHERE id = @id", new { id, name = $"round {round}.{change}" });
            }

            await Task.Delay(10, Ct);
            await stop.CancelAsync();
            await Task.WhenAll(readers);

            await NamedSoonAsync(fx.Api, id, user.Token, $"round {round}.2", $"round {round}: a read that raced a change kept an old stage");
        }
    }

    [Fact]
    public async Task A_change_while_the_listener_is_down_is_not_missed()
    {
        await using var own = await OwnInstance.StartAsync(fx);
        var id = (await own.Api.PostAsync("/api/stages", new { name = "before", open_time = "09:00", close_time = "17:00" }, own.Admin)).Is(HttpStatusCode.Created).Id;
        var pid = await own.ListenerAsync();
        await own.NamedSoonAsync(id, "before", "the stage is not served");
        await own.SqlAsync("SELECT pg_terminate_backend(@pid)", new { pid });

        // The instance reconnects a second later; this change's notification reaches nobody.
        await own.SqlAsync("UPDATE stages SET name = 'after' WHERE id = @id", new { id });
        await own.NamedSoonAsync(id, "after", "a change made while the listener was down is not seen");

        // Listening again (a new connection), changes are heard again.
        await own.ListenerAsync(replacing: pid);
        await own.SqlAsync("UPDATE stages SET name = 'heard' WHERE id = @id", new { id });
        await own.NamedSoonAsync(id, "heard", "a change made after the listener came back is not seen");
    }

    private static async Task SignalAsync(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(Ct);
        Assert.Equal(0, kill.ExitCode);
    }

    // An instance on a database of its own, so that its LISTEN connection is the only one there, signed in as admin.
    private sealed class OwnInstance(IAlbaHost host, ApiClient api, string database, string admin) : IAsyncDisposable
    {
        public ApiClient Api => api;

        public string Admin => admin;

        public static async Task<OwnInstance> StartAsync(SlicesFixture fx)
        {
            var database = await fx.Database.CreateDatabaseAsync($"stages_{Guid.NewGuid():N}");
            var host = await SlicesFixture.StartHostAsync(database);
            var api = new ApiClient(host.Server.CreateClient());
            return new OwnInstance(host, api, database, (await api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token);
        }

        public Task SqlAsync(string sql, object args) => StageCacheTests.SqlAsync(database, sql, args);

        // The server process of the instance's LISTEN connection, once it listens.
        public Task<int> ListenerAsync(int? replacing = null) => TestDatabase.ListenerAsync(database, replacing);

        public Task NamedSoonAsync(long id, string expected, string why) => StageCacheTests.NamedSoonAsync(api, id, admin, expected, why);

        public async ValueTask DisposeAsync()
        {
            api.Dispose();
            await host.DisposeAsync();
        }
    }
}

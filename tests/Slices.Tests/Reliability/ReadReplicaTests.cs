using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Slices.Api.Common.Data;
using Slices.Tests.Infrastructure;
using Slices.Tests.Work;

namespace Slices.Tests.Reliability;

// Reads that tolerate staleness go to a real streaming standby: its replay is paused to see which server answered.
// A writer's next read sees the write (X-Slices-Lsn, or the slices_lsn cookie); others may see it later; a standby
// that stops or lags past Database:MaxReplicaLag costs no failed request.
public sealed class ReadReplicaTests(StandbyFixture replica, SlicesFixture fx) : IClassFixture<StandbyFixture>
{
    private static readonly string[] StandbyRoutes = ["/api/cassettes", "/api/stages", "/api/events", "/api/restaurant/tables"];

    private ApiClient Api => replica.Api;

    [Theory]
    [InlineData("cassettes")]
    [InlineData("stages")]
    [InlineData("trainings")]
    [InlineData("restaurant tables")]
    [InlineData("events")]
    [InlineData("chat history")]
    public async Task A_write_is_in_the_writers_next_read_while_the_standby_has_not_replayed_it_and_reaches_others_later(string route)
    {
        var admin = (await Api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;
        var other = await Api.SignUpAsync();
        var marker = $"replica {Guid.NewGuid():N}";
        // Anything the write needs that is not itself under test is made before replay stops.
        var group = route == "trainings"
            ? (await Api.PostAsync("/api/groups", new { name = marker, description = "replica test" }, admin)).Is(HttpStatusCode.Created).Id
            : 0;
        if (route == "trainings")
        {
            (await Api.PostAsync($"/api/groups/{group}/users", new { user = other.Id }, admin)).Is(HttpStatusCode.Created);
        }

        string url, lsn, seen;
        await using (await replica.PauseReplayAsync())
        {
            (url, lsn, seen) = await WriteAsync(route, marker, admin, other, group);

            Assert.DoesNotContain(seen, await ReadAsync(url, other.Token));
            Assert.Contains(seen, await ReadAsync(url, other.Token, new() { [ReadYourWrites.Header] = lsn }));
        }

        await Eventually.HoldsAsync(async () => (await ReadAsync(url, other.Token)).Contains(seen, StringComparison.Ordinal), () => $"{route}: not replayed");
    }

    [Fact]
    public async Task The_cookie_works_as_the_header_and_a_malformed_position_reads_the_primary()
    {
        var admin = (await Api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;
        var title = $"replica cookie {Guid.NewGuid():N}";
        await using (await replica.PauseReplayAsync())
        {
            var created = (await Api.PostAsync("/api/cassettes", new { title, director = "Ann Director", released = "1984-10-26", quantity = 1 }, admin))
                .Is(HttpStatusCode.Created);
            var lsn = created.Header(ReadYourWrites.Header)!;
            var cookie = Assert.Single(created.Response.Headers.GetValues("Set-Cookie"), c => c.StartsWith(ReadYourWrites.Cookie + "=", StringComparison.Ordinal));
            // The cookie's value is URL-encoded (0%2F3000060), as ASP.NET Core writes and reads cookies.
            Assert.Equal($"{ReadYourWrites.Cookie}={Uri.EscapeDataString(lsn)}; max-age=60; path=/; samesite=lax; httponly", cookie);

            var url = $"/api/cassettes?search={Uri.EscapeDataString(title)}";
            Assert.DoesNotContain(title, await ReadAsync(url, admin));
            Assert.Contains(title, await ReadAsync(url, admin, new() { ["Cookie"] = cookie.Split(';')[0] }));
            Assert.Contains(title, await ReadAsync(url, admin, new() { [ReadYourWrites.Header] = "not-a-position" }));
        }
    }

    [Fact]
    public async Task A_stopped_standby_costs_no_failed_request_and_is_used_again_when_it_returns()
    {
        var user = await Api.SignUpAsync();
        var statuses = new ConcurrentBag<HttpStatusCode>();
        var slowest = TimeSpan.Zero;
        using var stop = new CancellationTokenSource();
        var readers = Enumerable.Range(0, 4).Select(async i =>
        {
            while (!stop.IsCancellationRequested)
            {
                var sw = Stopwatch.StartNew();
                statuses.Add((await Api.GetAsync(StandbyRoutes[(i + statuses.Count) % StandbyRoutes.Length], user.Token)).Status);
                slowest = sw.Elapsed > slowest ? sw.Elapsed : slowest;
            }
        }).ToList();
        try
        {
            await Task.Delay(300, TestContext.Current.CancellationToken);
            await replica.Standby.StopAsync();
            await Task.Delay(1500, TestContext.Current.CancellationToken);
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(readers);
            await replica.Standby.StartAgainAsync(durable: false, TestContext.Current.CancellationToken);
        }

        Assert.True(statuses.Count > 20, $"only {statuses.Count} requests");
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.True(slowest < TimeSpan.FromSeconds(2), $"the slowest read took {slowest.TotalSeconds:0.0} s");
        Assert.Contains(replica.Logs.Lines, l => l.StartsWith("Warning: Read replica ", StringComparison.Ordinal) && l.Contains(" is skipped: ", StringComparison.Ordinal));
        await StandbyFixture.UntilServingAsync(replica.Replicas);
    }

    [Fact]
    public async Task A_standby_lagging_past_the_bound_is_skipped_and_reads_see_the_primary()
    {
        await using var strict = await replica.StartHostAsync(TimeSpan.FromSeconds(1));
        using var api = new ApiClient(strict.Server.CreateClient());
        var replicas = strict.Services.GetRequiredService<ReadReplicas>();
        await StandbyFixture.UntilServingAsync(replicas);
        var user = await api.SignUpAsync();
        var title = $"replica lag {Guid.NewGuid():N}";
        var url = $"/api/cassettes?search={Uri.EscapeDataString(title)}";
        await using (await replica.PauseReplayAsync())
        {
            var admin = (await api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;
            (await api.PostAsync("/api/cassettes", new { title, director = "Ann Director", released = "1984-10-26", quantity = 1 }, admin)).Is(HttpStatusCode.Created);

            // Without the writer's position: the standby answers until it is a second behind, then the primary does.
            await Eventually.HoldsAsync(async () => (await ReadAsync(api, url, user.Token)).Contains(title, StringComparison.Ordinal), () => "still read from the lagging standby", seconds: 10);
            Assert.Equal(0L, await replica.StandbySqlAsync($"SELECT count(*) FROM cassettes WHERE title = '{title}'"));
        }

        await StandbyFixture.UntilServingAsync(replicas);
    }

    [Fact]
    public async Task With_the_primary_down_the_standby_serves_public_reads_within_the_bound_everything_else_is_a_fast_503_and_all_heals()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var strict = await replica.StartHostAsync(TimeSpan.FromSeconds(1));
        using var strictApi = new ApiClient(strict.Server.CreateClient());
        var strictReplicas = strict.Services.GetRequiredService<ReadReplicas>();
        await StandbyFixture.UntilServingAsync(replica.Replicas);
        await StandbyFixture.UntilServingAsync(strictReplicas);
        var user = await Api.SignUpAsync();
        var admin = (await Api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;
        var label = $"replica outage {Guid.NewGuid():N}"[..40];
        (await Api.PostAsync("/api/restaurant/tables", new { label, kind = "regular", seats = 4, can_be_booked = true, price = 25m }, admin)).Is(HttpStatusCode.Created);
        await Eventually.HoldsAsync(async () => (long)(await replica.StandbySqlAsync($"SELECT count(*) FROM restaurant_tables WHERE label = '{label}'"))! == 1, () => "not replayed");

        await replica.Primary.StopAsync();
        try
        {
            // The fixture's host (a one-minute bound): a public list that tolerates staleness is the standby's, and has
            // what the standby had replayed.
            Assert.Contains(label, await ReadAsync("/api/restaurant/tables?limit=500", token: null));

            // Writes, and every signed-in request (the session is the primary's), are fast 503s on both hosts.
            foreach (var call in new Func<Task<Reply>>[]
            {
                () => Api.GetAsync("/api/users/me", user.Token),
                () => Api.GetAsync("/api/cassettes", user.Token),
                () => Api.PostAsync("/api/cassettes", new { title = label, director = "Ann Director", released = "1984-10-26", quantity = 1 }, admin),
                () => strictApi.GetAsync("/api/users/me", user.Token),
            })
            {
                AssertFastUnavailable(await TimedAsync(call));
            }

            // The strict host (a one-second bound) cannot know its standby fresh without the primary's samples: once
            // the bound has passed, it stops using it, and the same public read is a fast 503 there too.
            await Eventually.HoldsAsync(() => !strictReplicas.Standbys.Any(s => s.IsFresh(Environment.TickCount64, strictReplicas.MaxLag)), () => "the standby is still in use");
            AssertFastUnavailable(await TimedAsync(() => strictApi.GetAsync("/api/restaurant/tables?limit=500")));
        }
        finally
        {
            await replica.Primary.StartAgainAsync(durable: true, ct);
        }

        Reply? last = null;
        await Eventually.HoldsAsync(async () => (last = await Api.GetAsync("/api/users/me", user.Token)).Status == HttpStatusCode.OK,
            () => $"{last?.Status} {last?.Body?.ToJsonString()}", seconds: 20);
        (await strictApi.GetAsync("/api/users/me", user.Token)).Is(HttpStatusCode.OK);
        await StandbyFixture.UntilServingAsync(replica.Replicas);
        await StandbyFixture.UntilServingAsync(strictReplicas);
        Assert.Contains(label, await ReadAsync(strictApi, "/api/restaurant/tables?limit=500", token: null));
    }

    private static async Task<(Reply Reply, TimeSpan Took)> TimedAsync(Func<Task<Reply>> call)
    {
        var sw = Stopwatch.StartNew();
        var reply = await call();
        return (reply, sw.Elapsed);
    }

    private static void AssertFastUnavailable((Reply Reply, TimeSpan Took) answer)
    {
        var (reply, took) = answer;
        Assert.True(took < TimeSpan.FromSeconds(6), $"an outage answer took {took.TotalSeconds:0.0} s");
        reply.IsProblem(HttpStatusCode.ServiceUnavailable, "database_unavailable");
        Assert.NotNull(reply.Header("Retry-After"));
    }

    [Fact]
    public async Task Without_a_read_replica_a_write_answers_no_wal_position()
    {
        var created = (await fx.Api.PostAsync("/api/cassettes", new { title = $"no replica {Guid.NewGuid():N}", director = "Ann Director", released = "1984-10-26", quantity = 1 },
            await fx.AdminTokenAsync())).Is(HttpStatusCode.Created);

        Assert.Null(created.Header(ReadYourWrites.Header));
        Assert.False(created.Response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task The_openapi_document_names_the_header_on_the_standby_routes_and_on_writes()
    {
        var paths = (await fx.Api.GetAsync("/openapi/v1.json")).Is(HttpStatusCode.OK).Body!["paths"]!;
        string[] standbyRoutes = ["/api/events", "/api/cassettes", "/api/stages", "/api/trainings", "/api/restaurant/tables", "/api/chat/rooms/{room}/messages", "/api/chat/direct/{user}/messages"];
        foreach (var route in standbyRoutes)
        {
            Assert.Contains(paths[route]!["get"]!["parameters"]!.AsArray(), p => p!["name"]!.GetValue<string>() == ReadYourWrites.Header && p["in"]!.GetValue<string>() == "header");
        }

        Assert.DoesNotContain(paths["/api/users/me"]!["get"]!["parameters"]?.AsArray() ?? [], p => p!["name"]!.GetValue<string>() == ReadYourWrites.Header);
        Assert.NotNull(paths["/api/cassettes"]!["post"]!["responses"]!["201"]!["headers"]![ReadYourWrites.Header]);
        Assert.NotNull(paths["/api/bookings/{id}"]!["patch"]!["responses"]!["200"]!["headers"]![ReadYourWrites.Header]);
    }

    private Task<string> ReadAsync(string url, string? token, Dictionary<string, string>? headers = null) => ReadAsync(Api, url, token, headers);

    private static async Task<string> ReadAsync(ApiClient api, string url, string? token, Dictionary<string, string>? headers = null) =>
        (await api.GetAsync(url, token, headers)).Is(HttpStatusCode.OK).Body!.ToJsonString();

    // Writes something the route lists (marked with marker where it has a text) and answers the list's URL, the write's
    // WAL position and what the list shows once it has the write. Events and chat messages are written by a job and
    // over a socket, so they go into the primary directly, with the position a write's answer would carry.
    private async Task<(string Url, string Lsn, string Seen)> WriteAsync(string route, string marker, string admin, TestUser other, long group)
    {
        var search = Uri.EscapeDataString(marker);
        switch (route)
        {
            case "cassettes":
                return ($"/api/cassettes?search={search}", Lsn(await Api.PostAsync("/api/cassettes", new { title = marker, director = "Ann Director", released = "1984-10-26", quantity = 1 }, admin)), marker);
            case "stages":
                return ($"/api/stages?search={search}", Lsn(await Api.PostAsync("/api/stages",
                    new { name = marker, address = "1 Replica Street", description = "A stage", open_time = "09:00", close_time = "22:00", services = Array.Empty<long>() }, admin)), marker);
            case "trainings":
                var training = (await Api.PostAsync("/api/trainings",
                    new { date = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(30).ToString("yyyy-MM-dd"), start_time = "18:00", end_time = "19:30", price = 10m, group }, admin));
                return ($"/api/trainings?group={group}", Lsn(training), $"\"id\":{training.Id},");
            case "restaurant tables":
                return ("/api/restaurant/tables?limit=500", Lsn(await Api.PostAsync("/api/restaurant/tables", new { label = marker, kind = "regular", seats = 4, can_be_booked = true, price = 25m }, admin)), marker);
            case "events":
                return ($"/api/events?search={search}",
                    await replica.PrimarySqlAsync("INSERT INTO events (title, description, date, created_by) VALUES ($1, 'replica', NULL, $2)", marker, other.Id), marker);
            default:
                var room = $"replica-{Guid.NewGuid():N}"[..40];
                return ($"/api/chat/rooms/{room}/messages",
                    await replica.PrimarySqlAsync("INSERT INTO chat_messages (room, sender_id, text) VALUES ($1, $2, $3)", room, other.Id, marker), marker);
        }
    }

    private static string Lsn(Reply reply) => reply.Is(HttpStatusCode.Created).Header(ReadYourWrites.Header)!;
}

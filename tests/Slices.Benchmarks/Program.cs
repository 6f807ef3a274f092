using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using Slices.Benchmarks;

// dotnet run -c Release --project tests/Slices.Benchmarks -- [--scenario NAME|all] [--duration 20s] [--connections 32] [--rows N]
//   [--transport tcp|unix] (HTTP over loopback TCP, the default, or over a unix socket the service listens on)
//   [--warmup 3s] (before each scenario) [--service-warmup 15s] (at least, at every service start; then until its JIT is quiet)
//   [--pool 32] (the service's and the raw baseline's connection pool; pgbench runs this many clients)
//   [--telemetry on,off[,…]] (the scenarios once per entry, the service restarted before each with telemetry on, exporting
//   over OTLP to a receiver in this process and scraped every 15 s, or off; meant for stage-get and booking-create)
// dotnet run -c Release --project tests/Slices.Benchmarks -- --micro: in-process timings of JSON and row mapping (Micro.cs)
// Reports figures; never fails a build. Quote medians of several runs: these machines are shared and noisy.
// The load generator runs its socket continuations on the epoll thread instead of handing each to the thread pool
// (read once, at the first socket: so before anything else). Measured: ~5 µs less client CPU per request, 22-25 ->
// 15-18 µs, so more of the two cores is left to the service and PostgreSQL. The service is started without it.
Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
if (args.Contains("--micro"))
{
    Micro.Run();
    return 0;
}

var o = Options.Parse(args);
var all = new[] { "stage-get", "raw-baseline", "db-limit", "bookings-list", "booking-create", "hold-confirm", "booking-race", "order-create", "events-search", "tables-search", "login", "chat-fanout" };
var selected = o.Scenario == "all" ? all : o.Scenario.Split(',');
var unknown = selected.Except(all).ToList();
if (unknown.Count > 0)
{
    Console.Error.WriteLine($"Unknown scenario(s): {string.Join(", ", unknown)}. Known: {string.Join(", ", all)}");
    return 2;
}

await using var env = await BenchEnvironment.StartAsync(o.Connections, o.Pool, o.Transport);
var me = (await env.Http.SendAsync(env.Request(HttpMethod.Get, "/api/users/me", env.Token))).EnsureSuccessStatusCode();
var myId = (await me.Content.ReadFromJsonAsync<JsonNode>())!["id"]!.GetValue<long>();
Console.WriteLine("Seeding ...");
long[] stages;
await using (var conn = await env.OpenAsync())
{
    stages = await Seed.StagesAsync(conn, 1000);
    await Seed.BookingsAsync(conn, myId, stages[0], 20);
}

var results = new List<Figures>();
await using var sink = o.Telemetry.Length > 0 ? await TelemetrySink.StartAsync() : null;
// Every entry of --telemetry restarts the service with its setting; without it, the service runs once as shipped.
string?[] variants = o.Telemetry.Length > 0 ? [.. o.Telemetry] : [null];
// Booking slots stay distinct across variants.
long bookings = 0;
foreach (var variant in variants)
{
    if (variant is not null)
    {
        Console.WriteLine($"Restarting the service with telemetry {variant} ...");
        await env.StartServiceAsync(await sink!.VariantAsync(variant));
    }

    // The service is a fresh process: until tiered compilation has finished with the shared pipeline (auth, routing,
    // JSON, Npgsql), whichever scenario runs first is measured against half-compiled code (5,700-8,600 req/s for a
    // first stage-get against 12,800-13,900 for a second one in the same run). So it is warmed up over a few routes for
    // at least --service-warmup, and then until the tiered-compilation threads of the service and of this process (the
    // telemetry sink's) are quiet (under 2 % of a core over 5 s; at most 2 minutes): with telemetry on there is more
    // code to compile, and after 15 s that thread still took a quarter of the service's CPU (perf, stage-get), which
    // the first scenario was charged for.
    var warmedUp = Stopwatch.StartNew();
    var jitShare = double.NaN;
    Console.WriteLine($"Warming up the service (at least {o.ServiceWarmup.TotalSeconds:0} s, until its JIT is quiet) ...");
    while (warmedUp.Elapsed < o.ServiceWarmup || (jitShare > 0.02 && warmedUp.Elapsed < TimeSpan.FromMinutes(2)))
    {
        var chunk = TimeSpan.FromSeconds(5);
        var jitBefore = env.Cpu.JitThreads();
        await LoadRunner.RunAsync("service-warmup", o with { Duration = chunk, Warmup = TimeSpan.Zero }, env.Cpu, async (w, i) =>
        {
            using var r = await env.Http.SendAsync(env.Request(HttpMethod.Get, (i % 4) switch
            {
                0 => "/api/bookings?limit=20",
                1 => "/api/events?limit=20",
                _ => $"/api/stages/{stages[Random.Shared.Next(stages.Length)]}",
            }, env.Token));
            return r.IsSuccessStatusCode;
        });
        jitShare = CpuMeter.JitShare(jitBefore, env.Cpu.JitThreads(), chunk.TotalSeconds);
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Warmed up in {warmedUp.Elapsed.TotalSeconds:0} s (tiered JIT at most {jitShare:P1} of a core over the last 5 s)."));

    foreach (var name in selected)
    {
        Console.WriteLine($"Running {name} ({o.Connections} connections, {o.Duration.TotalSeconds:0} s) ...");
        var figures = name switch
        {
            "stage-get" => await LoadRunner.RunAsync(name, o, env.Cpu, async (w, i) =>
            {
                using var r = await env.Http.SendAsync(env.Request(HttpMethod.Get, $"/api/stages/{stages[Random.Shared.Next(stages.Length)]}", env.Token));
                return r.StatusCode == HttpStatusCode.OK;
            }),
            "raw-baseline" => await RawBaselineAsync(),
            "db-limit" => await DbLimitAsync(),
            "bookings-list" => await LoadRunner.RunAsync(name, o, env.Cpu, async (w, i) =>
            {
                using var r = await env.Http.SendAsync(env.Request(HttpMethod.Get, "/api/bookings?limit=20", env.Token));
                return r.StatusCode == HttpStatusCode.OK;
            }),
            "booking-create" => await BookingCreateAsync(),
            "hold-confirm" => await HoldConfirmAsync(),
            "booking-race" => await BookingRaceAsync(),
            "order-create" => await OrderCreateAsync(),
            "events-search" => await EventsSearchAsync(),
            "tables-search" => await TablesSearchAsync(),
            "login" => await LoadRunner.RunAsync(name, o with { Connections = Math.Min(o.Connections, 4) }, env.Cpu, async (w, i) =>
            {
                using var r = await env.Http.PostAsJsonAsync("/api/auth/login", new { username = "admin", password = BenchEnvironment.Password });
                return r.StatusCode == HttpStatusCode.OK;
            }, "PBKDF2-SHA256 600k iterations per request; at most 4 connections"),
            "chat-fanout" => await ChatFanoutAsync(),
            _ => throw new UnreachableException(),
        };
        if (variant is not null)
        {
            figures = figures with { Scenario = $"{figures.Scenario} [telemetry {variant}]" };
        }

        results.Add(figures);
        Print([figures]);
    }
}

if (sink is not null)
{
    TelemetryCost(results, sink);
}

Console.WriteLine();
Print(results);
var resultsDir = Path.Combine(BenchEnvironment.RepositoryRoot(), "bench-results");
Directory.CreateDirectory(resultsDir);
var file = Path.Combine(resultsDir, $"bench-{DateTime.UtcNow:yyyyMMdd-HHmmss}.json");
await File.WriteAllTextAsync(file, JsonSerializer.Serialize(new { options = o, results }, new JsonSerializerOptions { WriteIndented = true }));
Console.WriteLine($"Wrote {file}");
return 0;

async Task<Figures> RawBaselineAsync()
{
    var (app, address, socket) = await RawBaseline.StartAsync(env.ConnectionString, o.Pool, env.UnixSocket);
    using var http = new HttpClient(BenchEnvironment.Handler(o.Connections, socket)) { BaseAddress = address };
    try
    {
        return await LoadRunner.RunAsync("raw-baseline", o, env.Cpu, async (w, i) =>
        {
            using var r = await http.GetAsync($"/raw/stages/{stages[Random.Shared.Next(stages.Length)]}");
            return r.StatusCode == HttpStatusCode.OK;
        }, "same SQL as stage-get, bare minimal API in the benchmark process");
    }
    finally
    {
        await app.StopAsync();
    }
}

async Task<Figures> DbLimitAsync()
{
    var script = Path.GetTempFileName();
    await File.WriteAllTextAsync(script, $"""
        \set id random({stages[0]}, {stages[^1]})
        SELECT s.id, s.name, s.address, s.description, s.open_time, s.close_time, ARRAY(SELECT ss.service_id FROM stage_services ss WHERE ss.stage_id = s.id ORDER BY ss.service_id) AS services, s.xmin::text::bigint AS version FROM stages s WHERE s.id = :id;
        """);
    var bin = Path.Combine(Slices.Api.Common.Data.EmbeddedPostgres.FindBinDirectory(), "pgbench");
    var before = env.Cpu.Sample();
    var output = await BenchEnvironment.RunAsync(bin,
        $"-h {new Npgsql.NpgsqlConnectionStringBuilder(env.ConnectionString).Host} -p {env.Postgres.Port} -U postgres -n -M prepared -c {o.Pool} -j 2 -T {(int)o.Duration.TotalSeconds} -f {script} slices_bench");
    var tps = double.Parse(output.Split('\n').First(l => l.StartsWith("tps", StringComparison.Ordinal)).Split('=')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    var latency = double.Parse(output.Split('\n').First(l => l.StartsWith("latency average", StringComparison.Ordinal)).Split('=')[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    var queries = (long)(tps * o.Duration.TotalSeconds);
    return new Figures("db-limit", tps, latency, 0, 0, 0, queries, 0, "pgbench -M prepared, same SELECT; p50 column is pgbench's average latency; load µs is pgbench's",
        CpuMeter.PerRequest(env.Cpu.Sample() - before, queries));
}

async Task<Figures> BookingCreateAsync()
{
    // Every request a distinct free slot: request n books stage n mod 1000, hour (n / 1000) mod 23, a day further
    // for every 23,000 requests, starting far beyond the other scenarios' dates.
    var today = DateOnly.FromDateTime(DateTime.UtcNow);
    return await LoadRunner.RunAsync("booking-create", o, env.Cpu, async (w, i) =>
    {
        var n = Interlocked.Increment(ref bookings);
        var k = n / stages.Length;
        var date = today.AddDays(1000 + (int)(k / 23));
        var hour = (int)(k % 23);
        using var r = await env.Http.SendAsync(env.Request(HttpMethod.Post, "/api/bookings", env.Token, new
        {
            stage = stages[n % stages.Length],
            date = date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            start_time = $"{hour:00}:00",
            finish_time = $"{hour:00}:30",
        }));
        return r.StatusCode == HttpStatusCode.Created;
    });
}

async Task<Figures> HoldConfirmAsync()
{
    // A hold of a distinct free slot and its confirm per request, to set beside booking-create's one POST: service CPU
    // µs per request here is the pair's. Each connection holds as a user of its own, as clients do: one user's holds
    // are counted under that user's row lock (Holds:MaxActivePerUser), which would otherwise serialise every request.
    var tokens = await env.NewUserTokensAsync(o.Connections);
    var today = DateOnly.FromDateTime(DateTime.UtcNow);
    return await LoadRunner.RunAsync("hold-confirm", o, env.Cpu, async (w, i) =>
    {
        var n = Interlocked.Increment(ref bookings);
        var k = n / stages.Length;
        var date = today.AddDays(3000 + (int)(k / 23));
        var hour = (int)(k % 23);
        using var held = await env.Http.SendAsync(env.Request(HttpMethod.Post, "/api/holds", tokens[w], new
        {
            kind = "stage_slot",
            stage = stages[n % stages.Length],
            date = date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            start_time = $"{hour:00}:00",
            end_time = $"{hour:00}:30",
        }));
        if (held.StatusCode != HttpStatusCode.Created)
        {
            return false;
        }

        var id = (await held.Content.ReadFromJsonAsync<JsonNode>())!["id"]!.GetValue<long>();
        using var confirmed = await env.Http.SendAsync(env.Request(HttpMethod.Post, $"/api/holds/{id}/confirm", tokens[w]));
        return confirmed.StatusCode == HttpStatusCode.Created;
    }, "POST /api/holds then POST /api/holds/{id}/confirm per request, a user per connection");
}

async Task<Figures> BookingRaceAsync()
{
    // Rounds of all connections asking for one slot at once; every round must have exactly one winner.
    var today = DateOnly.FromDateTime(DateTime.UtcNow);
    var rounds = 20;
    var perfect = 0;
    var imperfect = new List<string>();
    var sw = Stopwatch.StartNew();
    for (var round = 0; round < rounds; round++)
    {
        var date = today.AddDays(3000 + Random.Shared.Next(100_000));
        var replies = await Task.WhenAll(Enumerable.Range(0, o.Connections).Select(async _ =>
        {
            using var r = await env.Http.SendAsync(env.Request(HttpMethod.Post, "/api/bookings", env.Token, new
            {
                stage = stages[^1],
                date = date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                start_time = "12:00",
                finish_time = "13:00",
            }));
            return r.StatusCode;
        }));
        if (replies.Count(s => s == HttpStatusCode.Created) == 1 && replies.Count(s => s == HttpStatusCode.Conflict) == o.Connections - 1)
        {
            perfect++;
        }
        else
        {
            imperfect.Add(string.Join(" ", replies.GroupBy(s => (int)s).OrderBy(g => g.Key).Select(g => $"{g.Count()}×{g.Key}")));
        }
    }

    return new Figures("booking-race", rounds * o.Connections / sw.Elapsed.TotalSeconds, 0, 0, 0, 0, rounds * o.Connections, rounds - perfect,
        $"winners = 1 in {perfect}/{rounds} rounds of {o.Connections} requests{(imperfect.Count == 0 ? "" : $"; other rounds: {string.Join(", ", imperfect)}")}");
}

async Task<Figures> OrderCreateAsync()
{
    long[] cassettes;
    await using (var conn = await env.OpenAsync())
    {
        cassettes = await Seed.CassettesAsync(conn, 1000, 1_000_000);
    }

    return await LoadRunner.RunAsync("order-create", o, env.Cpu, async (w, i) =>
    {
        using var r = await env.Http.SendAsync(env.Request(HttpMethod.Post, "/api/orders", env.Token, new
        {
            items = new[] { new { cassette = cassettes[Random.Shared.Next(cassettes.Length)], quantity = 1 } },
        }));
        return r.StatusCode == HttpStatusCode.Created;
    });
}

async Task<Figures> EventsSearchAsync()
{
    // The same search each time (as a client paging through it, or a popular one: the service counts it once per
    // version of the events tables), and the same search over a different year-long window each time, so that every
    // request counts its total in PostgreSQL.
    var sizes = new[] { 10_000L, (long)o.Rows }.Where(s => s >= 10_000).Distinct().ToList();
    var measured = new List<Figures>();
    foreach (var size in sizes)
    {
        await using (var conn = await env.OpenAsync())
        {
            Console.WriteLine($"  events up to {size:N0} ...");
            await SeedEvents.UpToAsync(conn, size, myId);
        }

        var label = size.ToString("N0", CultureInfo.InvariantCulture);
        measured.Add(await LoadRunner.RunAsync($"events-search@{label}", o, env.Cpu, async (w, i) =>
        {
            using var r = await env.Http.SendAsync(env.Request(HttpMethod.Get, "/api/events?search=jazz&date__gte=2023-01-01&date__lte=2023-12-31&limit=20", env.Token));
            return r.StatusCode == HttpStatusCode.OK;
        }));
        Print([measured[^1]]);
        if (size != sizes[^1])
        {
            results.Add(measured[^1]);
        }

        var window = 0;
        var uncached = await LoadRunner.RunAsync($"events-search-uncounted@{label}", o, env.Cpu, async (w, i) =>
        {
            var from = new DateOnly(2020, 1, 1).AddDays(Interlocked.Increment(ref window) % 3000);
            using var r = await env.Http.SendAsync(env.Request(HttpMethod.Get,
                $"/api/events?search=jazz&date__gte={from:yyyy-MM-dd}&date__lte={from.AddDays(364):yyyy-MM-dd}&limit=20", env.Token));
            return r.StatusCode == HttpStatusCode.OK;
        }, "a different year-long window per request: the total is counted every time");
        Print([uncached]);
        results.Add(uncached);
    }

    var last = measured[^1];
    return measured.Count > 1 ? last with { Note = $"p50 ratio {last.P50Ms / measured[0].P50Ms:0.00} vs 10,000 events" } : last;
}

async Task<Figures> TablesSearchAsync()
{
    DateTimeOffset at;
    await using (var conn = await env.OpenAsync())
    {
        at = await SeedRestaurant.TablesAsync(conn, 5000);
    }

    var url = $"/api/restaurant/tables?seats=4&kind=regular&at={Uri.EscapeDataString(at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture))}&duration_minutes=120&limit=20";
    return await LoadRunner.RunAsync("tables-search", o, env.Cpu, async (w, i) =>
    {
        using var r = await env.Http.GetAsync(url);
        return r.StatusCode == HttpStatusCode.OK;
    }, "free-at-time search over 5,000 tables, public");
}

async Task<Figures> ChatFanoutAsync()
{
    const int sockets = 100;
    const int messages = 200;
    var room = $"bench-{Guid.NewGuid():N}"[..20];
    var clients = new List<ClientWebSocket>();
    var ws = new UriBuilder(env.BaseAddress) { Scheme = "ws", Path = "/ws/chat", Query = $"access_token={env.Token}" }.Uri;
    using var invoker = new HttpMessageInvoker(BenchEnvironment.Handler(sockets, env.UnixSocket));
    for (var i = 0; i < sockets; i++)
    {
        var c = new ClientWebSocket();
        await c.ConnectAsync(ws, invoker, CancellationToken.None);
        await c.SendAsync(Encoding.UTF8.GetBytes($$"""{"type":"join","room":"{{room}}"}"""), WebSocketMessageType.Text, true, CancellationToken.None);
        clients.Add(c);
    }

    await Task.Delay(500);
    var sw = Stopwatch.StartNew();
    var receivers = clients.Select(async c =>
    {
        var buffer = new byte[8192];
        for (var got = 0; got < messages;)
        {
            var r = await c.ReceiveAsync(buffer, CancellationToken.None);
            if (r.EndOfMessage && Encoding.UTF8.GetString(buffer, 0, r.Count).Contains("\"type\":\"message\"", StringComparison.Ordinal))
            {
                got++;
            }
        }
    }).ToList();
    // 20 senders with 10 messages each: every sender stays under the per-socket limit of 20 frames a second.
    await Task.WhenAll(clients.Take(20).Select(async (c, s) =>
    {
        for (var m = 0; m < messages / 20; m++)
        {
            await c.SendAsync(Encoding.UTF8.GetBytes($$"""{"type":"message","room":"{{room}}","text":"s{{s}}m{{m}}"}"""), WebSocketMessageType.Text, true, CancellationToken.None);
        }
    }));

    await Task.WhenAll(receivers);
    var elapsed = sw.Elapsed.TotalSeconds;
    foreach (var c in clients)
    {
        c.Dispose();
    }

    return new Figures("chat-fanout", sockets * messages / elapsed, 0, 0, 0, 0, sockets * messages, 0,
        $"{messages} messages from 20 senders to {sockets} sockets: deliveries per second");
}

// Per scenario and telemetry variant, the median requests/s and service CPU per request against telemetry off, and
// their ratio.
static void TelemetryCost(List<Figures> results, TelemetrySink sink)
{
    Console.WriteLine();
    Console.WriteLine($"Telemetry on vs off (medians; {sink.Describe()}):");
    static double Median(IEnumerable<double> values) => values.Order().ToArray() is { Length: > 0 } v ? (v[(v.Length - 1) / 2] + v[v.Length / 2]) / 2 : double.NaN;
    static string Runs(List<Figures> runs) => string.Join(", ", runs.Select(f => f.RequestsPerSecond.ToString("0", CultureInfo.InvariantCulture)));
    var parsed = results.Select(f => (Figures: f, Parts: f.Scenario.Split(" [telemetry "))).Where(p => p.Parts.Length == 2)
        .Select(p => (p.Figures, Scenario: p.Parts[0], Variant: p.Parts[1].TrimEnd(']'))).ToList();
    foreach (var scenario in parsed.Select(p => p.Scenario).Distinct())
    {
        var off = parsed.Where(p => p.Scenario == scenario && p.Variant == "off").Select(p => p.Figures).ToList();
        foreach (var variant in parsed.Where(p => p.Scenario == scenario && p.Variant != "off").Select(p => p.Variant).Distinct())
        {
            var on = parsed.Where(p => p.Scenario == scenario && p.Variant == variant).Select(p => p.Figures).ToList();
            if (off.Count == 0)
            {
                continue;
            }

            var (onRps, offRps) = (Median(on.Select(f => f.RequestsPerSecond)), Median(off.Select(f => f.RequestsPerSecond)));
            var (onUs, offUs) = (Median(on.Select(f => f.Cpu?.ServiceUs ?? 0)), Median(off.Select(f => f.Cpu?.ServiceUs ?? 0)));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{scenario,-16} {variant} {onRps,8:0} req/s ({on.Count} runs: {Runs(on)}), svc {onUs:0.0} µs  off {offRps,8:0} req/s ({off.Count} runs: {Runs(off)}), svc {offUs:0.0} µs  on/off {onRps / offRps:0.000}"));
        }
    }
}

static void Print(IEnumerable<Figures> rows)
{
    // CPU µs per request: the service, PostgreSQL's processes, this process (load generator, and raw-baseline's host).
    Console.WriteLine($"{"scenario",-24} {"req/s",10} {"p50 ms",8} {"p95 ms",8} {"p99 ms",8} {"max ms",8} {"errors",7} {"svc µs",7} {"pg µs",7} {"load µs",7}  note");
    foreach (var f in rows)
    {
        var cpu = f.Cpu is { } c ? string.Create(CultureInfo.InvariantCulture, $"{c.ServiceUs,7:0.0} {c.PostgresUs,7:0.0} {c.LoadUs,7:0.0}") : $"{"—",7} {"—",7} {"—",7}";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{f.Scenario,-24} {f.RequestsPerSecond,10:0} {f.P50Ms,8:0.00} {f.P95Ms,8:0.00} {f.P99Ms,8:0.00} {f.MaxMs,8:0.00} {f.Errors,7} {cpu}  {f.Note}"));
    }
}

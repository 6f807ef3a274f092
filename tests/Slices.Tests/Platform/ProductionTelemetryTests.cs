using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Slices.Tests.Features.Restaurant;
using Slices.Tests.Infrastructure;
using Slices.Tests.Reliability;
using Slices.Tests.Work;

namespace Slices.Tests.Platform;

// The service as an operator runs it: a real process in Production with `Telemetry:MetricsUrl`, scraped over TCP, its
// console read line by line. Its instruments are its own, so the counts are exact.
public sealed class ProductionTelemetryTests(SlicesFixture fx)
{
    [Fact]
    public async Task A_production_process_serves_metrics_on_its_own_port_only_and_logs_json_lines_with_trace_ids()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Otherwise = 500;
        var metricsPort = ServiceProcess.FreePort();
        var database = await fx.Database.CreateDatabaseAsync($"telemetry_{Guid.NewGuid():N}");
        await using var service = await ServiceProcess.StartAsync(database, new Dictionary<string, string?>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            // Production refuses the tests' lowered iterations: the default it is.
            ["Auth:PasswordHashIterations"] = string.Empty,
            ["Telemetry:MetricsUrl"] = $"http://127.0.0.1:{metricsPort}",
            ["Telemetry:SampleInterval"] = "00:00:00.200",
            ["Work:MaxAttempts"] = "1",
            ["Restaurant:Accounting:Url"] = receiver.Url,
            ["Restaurant:Accounting:Secret"] = "telemetry-test-secret",
            ["Logging:LogLevel:Microsoft.AspNetCore.Hosting.Diagnostics"] = "Information",
        });
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };
        var admin = await service.Api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword);

        var traceId = ActivityTraceId.CreateRandom();
        (await service.Api.GetAsync("/api/restaurant/tables", headers: new Dictionary<string, string> { ["traceparent"] = $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01" }))
            .Is(HttpStatusCode.OK);
        var table = await service.Api.NewTableIdAsync(admin.Token);
        // Announced to the accounting system, which answers 500: with one attempt, the delivery fails.
        (await service.Api.RequestAsync(RestaurantTestData.Request(table, RestaurantTestData.Future()))).Is(HttpStatusCode.Created);

        PrometheusText? scrape = null;
        await Eventually.HoldsAsync(
            async () =>
            {
                using var reply = await metrics.GetAsync("/metrics", TestContext.Current.CancellationToken);
                Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
                var m = scrape = new PrometheusText(await reply.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
                return m.Sum("slices_webhook_attempts_total", "event_type=\"reservation.requested\"", "outcome=\"failed\"") == 1
                    && m.Sum("slices_jobs_finished_total", "job_kind=\"webhook.deliver\"", "outcome=\"failed\"") == 1
                    && m.Sum("slices_outbox_backlog", "outbox=\"webhook\"", "state=\"failed\"") == 1
                    && m.Sum("slices_jobs", "job_kind=\"webhook.deliver\"", "state=\"failed\"") == 1;
            },
            () => scrape?.Text ?? "no scrape");
        Assert.Equal(1, scrape!.Sum("http_server_request_duration_seconds_count", "http_request_method=\"GET\"", "http_route=\"/api/restaurant/tables\""));
        Assert.Equal(1, scrape.Sum("http_server_request_duration_seconds_count", "http_request_method=\"POST\"", "http_route=\"/api/restaurant/reservations\"", "http_response_status_code=\"201\""));
        // The scrapes themselves are not counted as requests.
        Assert.False(scrape.Has("http_server_request_duration_seconds_count", "http_request_method=\"GET\"", "http_response_status_code=\"200\",network"), scrape.Text);

        // /metrics is nowhere on the service's address, and the metrics address serves nothing else.
        (await service.Api.GetAsync("/metrics")).IsProblem(HttpStatusCode.NotFound, "not_found");
        using (var other = await metrics.GetAsync("/api/restaurant/tables", TestContext.Current.CancellationToken))
        {
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        }

        // Every console line is one JSON object; the request's lines carry its caller's trace id, the failed job's its own.
        var lines = service.Output.ToList();
        var logs = lines.Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Contains(logs, l => (string?)l["Category"] == "Microsoft.AspNetCore.Hosting.Diagnostics"
            && ((string?)l["Message"])?.Contains("/api/restaurant/tables", StringComparison.Ordinal) == true
            && TraceIds(l).Contains(traceId.ToString()));
        var failed = Assert.Single(logs, l => (string?)l["Category"] == "Slices.Api.Common.Work.JobWorker" && (string?)l["LogLevel"] == "Error");
        Assert.Matches("^[0-9a-f]{32}$", Assert.Single(TraceIds(failed)));
    }

    private static List<string?> TraceIds(JsonObject line) =>
        line["Scopes"]?.AsArray().Select(s => s?["TraceId"]?.GetValue<string>()).Where(t => t is not null).ToList() ?? [];
}

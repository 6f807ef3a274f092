using System.Collections.ObjectModel;
using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;
using Slices.Api.Common.Work;
using Slices.Tests.Infrastructure;
using Slices.Tests.Work;

namespace Slices.Tests.Platform;

// Spans (through an in-memory exporter) and the Prometheus endpoint of an instance with telemetry on. Spans and
// instruments are process-wide, so every other instance in the test run feeds them too: the tests pick out their own
// by trace id, job id, job kind or event type, and count metrics as "moved by at least what this test did".
public sealed class TelemetryTests(SlicesFixture fx)
{
    // Nothing listens there: the test server asks the port of a request's local address, which SendAsync sets.
    private const int MetricsPort = 9464;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, string?> Settings(int maxAttempts) => new()
    {
        ["Telemetry:MetricsUrl"] = $"http://127.0.0.1:{MetricsPort}",
        ["Telemetry:SampleInterval"] = "00:00:00.200",
        ["Work:MaxAttempts"] = maxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    private static async Task<(int Status, string? ContentType, string Body)> GetOnPortAsync(WorkHost host, int localPort, string path)
    {
        var context = await host.Host.Server.SendAsync(c =>
        {
            c.Request.Method = "GET";
            c.Request.Path = path;
            c.Connection.LocalPort = localPort;
        }, Ct);
        using var reader = new StreamReader(context.Response.Body);
        return (context.Response.StatusCode, context.Response.ContentType, await reader.ReadToEndAsync(Ct));
    }

    private static async Task<PrometheusText> ScrapeAsync(WorkHost host)
    {
        var (status, contentType, body) = await GetOnPortAsync(host, MetricsPort, "/metrics");
        Assert.Equal(200, status);
        Assert.StartsWith("text/plain", contentType, StringComparison.Ordinal);
        return new PrometheusText(body);
    }

    private static async Task<PrometheusText> ScrapeUntilAsync(WorkHost host, Func<PrometheusText, bool> holds)
    {
        PrometheusText? last = null;
        await Eventually.HoldsAsync(async () => holds(last = await ScrapeAsync(host)), () => last?.Text ?? "no scrape");
        return last!;
    }

    private static async Task<Guid> QueueWebhookAsync(WorkHost host, string url, string eventType)
    {
        await using var conn = await host.OpenAsync();
        await using var tx = await conn.BeginTransactionAsync(Ct);
        var id = await host.Outbox.WebhookAsync(conn, tx, url, eventType, new { test = true }, "telemetry-test-secret", Ct);
        await tx.CommitAsync(Ct);
        return await host.ScalarAsync<Guid>("SELECT delivery_id FROM webhook_deliveries WHERE id = @id", new { id });
    }

    private static Task WaitForFailedDeliveryAsync(WorkHost host, Guid deliveryId) => Eventually.HoldsAsync(
        async () => await host.ScalarAsync<string>("SELECT state FROM webhook_deliveries WHERE delivery_id = @deliveryId", new { deliveryId }) == "failed",
        () => string.Join(" | ", host.Logs.Lines));

    [Fact]
    public async Task Metrics_count_requests_cache_lookups_jobs_and_a_failed_webhook()
    {
        var kind = $"test.metrics.{Guid.NewGuid():N}";
        var probe = new ProbeHandler(kind);
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Otherwise = 500;
        await using var host = await WorkHost.StartAsync(fx, s => s.AddSingleton<IJobHandler>(probe), Settings(maxAttempts: 2));
        // Its first session check reads the database; the next four are cache hits.
        var user = await host.Api.SignUpAsync();
        var eventType = $"test.metrics.{Guid.NewGuid():N}";
        var before = await ScrapeAsync(host);

        for (var i = 0; i < 5; i++)
        {
            (await host.Api.GetAsync("/api/restaurant/tables")).Is(HttpStatusCode.OK);
            (await host.Api.GetAsync("/api/users/me", user.Token)).Is(HttpStatusCode.OK);
        }

        var job = await host.EnqueueAsync(kind, new { });
        await host.WaitForJobAsync(job, j => j.State == "succeeded");
        var delivery = await QueueWebhookAsync(host, receiver.Url, eventType);
        await WaitForFailedDeliveryAsync(host, delivery);

        var route = new[] { "http_request_method=\"GET\"", "http_route=\"/api/restaurant/tables\"", "http_response_status_code=\"200\"" };
        var session = new[] { "cache=\"session\"", "result=\"hit\"" };
        var failedJob = new[] { "job_kind=\"webhook.deliver\"", "outcome=\"failed\"" };
        var after = await ScrapeUntilAsync(host, m =>
            m.Sum("http_server_request_duration_seconds_count", route) >= before.Sum("http_server_request_duration_seconds_count", route) + 5
            && m.Sum("slices_cache_lookups_total", session) >= before.Sum("slices_cache_lookups_total", session) + 4
            && m.Sum("slices_jobs_finished_total", $"job_kind=\"{kind}\"", "outcome=\"succeeded\"") == 1
            && m.Sum("slices_job_duration_seconds_count", $"job_kind=\"{kind}\"") == 1
            && m.Sum("slices_webhook_attempts_total", $"event_type=\"{eventType}\"", "outcome=\"failed\"") == 2
            && m.Sum("slices_jobs_finished_total", failedJob) >= before.Sum("slices_jobs_finished_total", failedJob) + 1);

        // Npgsql's own metrics: the pool's connections by state.
        Assert.True(after.Has("db_client_connection_count", "db_client_connection_state=\"used\""), after.Text);
    }

    [Fact]
    public async Task Queue_gauges_show_running_scheduled_and_waiting_jobs_and_the_age_of_the_oldest()
    {
        var kind = $"test.queue.{Guid.NewGuid():N}";
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var probe = new ProbeHandler(kind) { Body = (_, ct) => release.Task.WaitAsync(ct) };
        var settings = Settings(maxAttempts: 1);
        settings["Work:Concurrency"] = "1";
        await using var host = await WorkHost.StartAsync(fx, s => s.AddSingleton<IJobHandler>(probe), settings);

        var held = await host.EnqueueAsync(kind, new { });
        await host.WaitForJobAsync(held, j => j.State == "running");
        await host.EnqueueAsync(kind, new { });
        await host.EnqueueAsync(kind, new { }, DateTimeOffset.UtcNow.AddHours(1));
        try
        {
            var k = $"job_kind=\"{kind}\"";
            await ScrapeUntilAsync(host, m =>
                m.Sum("slices_jobs", k, "state=\"running\"") == 1 && m.Sum("slices_jobs", k, "state=\"pending\"") == 1
                && m.Sum("slices_jobs", k, "state=\"scheduled\"") == 1 && m.Sum("slices_jobs_oldest_due_age_seconds", k) > 0.2);
        }
        finally
        {
            release.TrySetResult();
        }

        // Once both ran, the emptied states read 0 instead of vanishing.
        await ScrapeUntilAsync(host, m => m.Has("slices_jobs", $"job_kind=\"{kind}\"", "state=\"running\"")
            && m.Sum("slices_jobs", $"job_kind=\"{kind}\"", "state=\"running\"") == 0 && m.Sum("slices_jobs", $"job_kind=\"{kind}\"", "state=\"pending\"") == 0);
    }

    [Fact]
    public async Task Metrics_are_answered_only_on_the_metrics_port_and_that_port_answers_nothing_else()
    {
        await using var host = await WorkHost.StartAsync(fx, settings: Settings(maxAttempts: 1));

        var (publicStatus, publicType, _) = await GetOnPortAsync(host, 80, "/metrics");
        var (otherStatus, _, _) = await GetOnPortAsync(host, MetricsPort, "/api/restaurant/tables");

        Assert.Equal(404, publicStatus);
        Assert.Equal("application/problem+json", publicType);
        Assert.Equal(404, otherStatus);
        Assert.Contains("# TYPE http_server_request_duration_seconds histogram", (await ScrapeAsync(host)).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Telemetry_off_registers_no_tracer_or_meter_provider_and_still_serves()
    {
        await using var host = await WorkHost.StartAsync(fx, settings: new Dictionary<string, string?> { ["Telemetry:Enabled"] = "false" });

        (await host.Api.GetAsync("/api/restaurant/tables")).Is(HttpStatusCode.OK);
        Assert.Null(host.Host.Services.GetService<TracerProvider>());
        Assert.Null(host.Host.Services.GetService<OpenTelemetry.Metrics.MeterProvider>());
    }

    [Fact]
    public async Task Spans_cover_a_request_with_its_sql_a_job_and_a_failed_webhook_delivery()
    {
        var spans = new Spans();
        var kind = $"test.spans.{Guid.NewGuid():N}";
        var probe = new ProbeHandler(kind);
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Otherwise = 500;
        await using var host = await WorkHost.StartAsync(fx, s =>
        {
            s.AddSingleton<IJobHandler>(probe);
            s.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(spans));
        }, Settings(maxAttempts: 1));

        // A request that carries its caller's trace: the server span joins it, and the SQL runs inside the server span.
        var traceId = ActivityTraceId.CreateRandom();
        (await host.Api.GetAsync("/api/restaurant/tables", headers: new Dictionary<string, string> { ["traceparent"] = $"00-{traceId}-{ActivitySpanId.CreateRandom()}-01" }))
            .Is(HttpStatusCode.OK);
        var job = await host.EnqueueAsync(kind, new { });
        var eventType = $"test.spans.{Guid.NewGuid():N}";
        var delivery = await QueueWebhookAsync(host, receiver.Url, eventType);
        await WaitForFailedDeliveryAsync(host, delivery);

        await Eventually.HoldsAsync(
            () => spans.Snapshot() is var all
                && all.Any(s => s.TraceId == traceId && s.Kind == ActivityKind.Server)
                && all.Any(s => s.DisplayName == $"job {kind}" && Equals(s.GetTagItem("job.id"), job))
                && all.Any(s => s.Source.Name == "System.Net.Http" && all.Any(w => w.SpanId == s.ParentSpanId && Equals(w.GetTagItem("webhook.event_type"), eventType))),
            () => $"{spans.Snapshot().Count} spans");
        var all = spans.Snapshot();

        var server = all.Single(s => s.TraceId == traceId && s.Kind == ActivityKind.Server);
        Assert.Equal("GET /api/restaurant/tables", server.DisplayName);
        var sql = all.Where(s => s.Source.Name == "Npgsql" && s.ParentSpanId == server.SpanId).ToList();
        Assert.NotEmpty(sql);
        Assert.Contains(sql, s => s.GetTagItem("db.query.text") is string text && text.Contains("restaurant_tables", StringComparison.Ordinal));

        var jobSpan = all.Single(s => s.DisplayName == $"job {kind}" && Equals(s.GetTagItem("job.id"), job));
        Assert.Equal(ActivityKind.Consumer, jobSpan.Kind);
        Assert.Equal("succeeded", jobSpan.GetTagItem("slices.outcome"));
        Assert.Equal(ActivityStatusCode.Unset, jobSpan.Status);

        var attempt = all.Single(s => Equals(s.GetTagItem("webhook.event_type"), eventType));
        Assert.Equal("webhook.deliver", attempt.DisplayName);
        Assert.Equal(ActivityStatusCode.Error, attempt.Status);
        Assert.Equal(500, attempt.GetTagItem("http.response.status_code"));
        Assert.Equal(delivery.ToString(), attempt.GetTagItem("webhook.delivery_id"));
        var webhookJob = all.Single(s => s.SpanId == attempt.ParentSpanId);
        Assert.Equal("job webhook.deliver", webhookJob.DisplayName);
        Assert.Equal(ActivityStatusCode.Error, webhookJob.Status);
        Assert.Equal("failed", webhookJob.GetTagItem("slices.outcome"));
        Assert.Contains(all, s => s.Source.Name == "Npgsql" && s.ParentSpanId == webhookJob.SpanId);
        var post = all.Single(s => s.Source.Name == "System.Net.Http" && s.ParentSpanId == attempt.SpanId);
        Assert.Equal(500, post.GetTagItem("http.response.status_code"));
    }

    // The exporter adds from the threads that end spans while the test reads.
    private sealed class Spans : Collection<Activity>
    {
        private readonly Lock gate = new();

        public List<Activity> Snapshot()
        {
            lock (gate)
            {
                return [.. Items];
            }
        }

        protected override void InsertItem(int index, Activity item)
        {
            lock (gate)
            {
                base.InsertItem(index, item);
            }
        }
    }
}

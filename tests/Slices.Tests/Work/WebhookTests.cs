using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Slices.Api.Common.Work;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Work;

public sealed class WebhookTests(SlicesFixture fx)
{
    private const string Secret = "accounting-test-secret";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<long> QueueAsync(string connectionString, Outbox outbox, string url, object body, string eventType = "reservation.requested")
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync(Ct);
        await using var tx = await conn.BeginTransactionAsync(Ct);
        var id = await outbox.WebhookAsync(conn, tx, url, eventType, body, Secret, Ct);
        await tx.CommitAsync(Ct);
        return id;
    }

    private Task<long> QueueAsync(string url, object body) =>
        QueueAsync(fx.Database.ConnectionString, fx.Host.Services.GetRequiredService<Outbox>(), url, body);

    private static async Task<string?> StateAsync(string connectionString, long id)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        return await conn.ExecuteScalarAsync<string>("SELECT state FROM webhook_deliveries WHERE id = @id", new { id });
    }

    [Fact]
    public async Task Webhook_reaches_the_receiver_signed_so_that_it_can_verify_the_body()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var id = await QueueAsync(receiver.Url, new { Event = "reservation.requested", Reservation = new { Id = 7, GuestName = "Ann" } });

        await Eventually.HoldsAsync(async () => await StateAsync(fx.Database.ConnectionString, id) == "delivered", () => $"{receiver.Requests.Count} requests");
        var request = Assert.Single(receiver.Requests);
        Assert.Equal("application/json", request.Header("Content-Type"));
        // The receiver's own check, written independently of the service's code.
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), request.Body));
        Assert.Equal(expected, request.Header("X-Signature"));
        Assert.True(WebhookSignature.Verify(Secret, request.Body, request.Header("X-Signature")));
        Assert.False(WebhookSignature.Verify("another-secret", request.Body, request.Header("X-Signature")));
        Assert.Equal("reservation.requested", request.Header("X-Event-Type"));
        await using var conn = new NpgsqlConnection(fx.Database.ConnectionString);
        Assert.Equal(await conn.ExecuteScalarAsync<Guid>("SELECT delivery_id FROM webhook_deliveries WHERE id = @id", new { id }), Guid.Parse(request.Header("X-Delivery-Id")));
        var body = JsonNode.Parse(request.Body)!;
        Assert.Equal("reservation.requested", body["event"]!.GetValue<string>());
        Assert.Equal("Ann", body["reservation"]!["guest_name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Receiver_answering_500_twice_then_200_gets_three_attempts_and_one_success()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Answers.Enqueue(500);
        receiver.Answers.Enqueue(500);
        var id = await QueueAsync(receiver.Url, new { n = 1 });

        await Eventually.HoldsAsync(async () => await StateAsync(fx.Database.ConnectionString, id) == "delivered", () => $"{receiver.Requests.Count} requests");
        await Task.Delay(300, Ct);
        Assert.Equal(3, receiver.Requests.Count);
        Assert.Single(receiver.Requests.Select(r => r.Header("X-Delivery-Id")).Distinct());
        Assert.Single(receiver.Requests.Select(r => r.Header("X-Signature")).Distinct());

        var admin = await fx.AdminTokenAsync();
        var detail = (await fx.Api.GetAsync($"/api/admin/webhooks/{id}", admin)).Is(HttpStatusCode.OK).Body!;
        Assert.Equal("delivered", detail["state"]!.GetValue<string>());
        Assert.Equal(3, detail["attempts"]!.GetValue<long>());
        Assert.Equal(200, detail["last_status_code"]!.GetValue<int>());
        var log = detail["attempt_log"]!.AsArray();
        Assert.Equal([500, 500, 200], log.Select(a => a!["status_code"]!.GetValue<int>()));
        Assert.Equal("answer 500 to attempt 1", log[0]!["response_snippet"]!.GetValue<string>());
        Assert.Equal(1, detail["body"]!["n"]!.GetValue<int>());
        Assert.NotNull(detail["delivered_at"]);
    }

    [Fact]
    public async Task Webhook_that_keeps_failing_is_failed_for_admins_and_can_be_redelivered()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        receiver.Otherwise = 503;
        await using var host = await WorkHost.StartAsync(fx, settings: new Dictionary<string, string?> { ["Work:MaxAttempts"] = "3" });
        var admin = (await host.Api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;
        var id = await QueueAsync(host.ConnectionString, host.Outbox, receiver.Url, new { n = 2 }, "reservation.cancelled");

        await Eventually.HoldsAsync(async () => await StateAsync(host.ConnectionString, id) == "failed", () => $"{receiver.Requests.Count} requests");
        var failed = (await host.Api.GetAsync("/api/admin/webhooks?state=failed", admin)).Is(HttpStatusCode.OK);
        Assert.Equal("1", failed.Header("X-Total-Count"));
        var item = Assert.Single(failed.Array)!;
        Assert.Equal(id, item["id"]!.GetValue<long>());
        Assert.Equal("reservation.cancelled", item["event_type"]!.GetValue<string>());
        Assert.Equal(3, item["attempts"]!.GetValue<long>());
        Assert.Equal(503, item["last_status_code"]!.GetValue<int>());
        var job = item["job"]!.GetValue<long>();
        var failedJobs = (await host.Api.GetAsync("/api/admin/jobs?state=failed&kind=webhook.deliver", admin)).Is(HttpStatusCode.OK);
        Assert.Equal(job, Assert.Single(failedJobs.Array)!["id"]!.GetValue<long>());
        Assert.Empty((await host.Api.GetAsync("/api/admin/webhooks?state=delivered", admin)).Array);

        receiver.Otherwise = 204;
        var redelivered = (await host.Api.PostAsync($"/api/admin/webhooks/{id}/redeliver", null, admin)).Is(HttpStatusCode.Accepted);
        Assert.Equal("pending", redelivered.Body!["state"]!.GetValue<string>());
        Assert.Equal($"/api/admin/webhooks/{id}", redelivered.Header("Location"));
        await Eventually.HoldsAsync(async () => await StateAsync(host.ConnectionString, id) == "delivered", () => $"{receiver.Requests.Count} requests");
        Assert.Equal(4, receiver.Requests.Count);
        Assert.Single(receiver.Requests.Select(r => r.Header("X-Delivery-Id")).Distinct());
        // The delivery is recorded by the job's handler; the job's success by the worker right after it returns.
        await host.WaitForJobAsync(job, j => j.State == "succeeded");

        (await host.Api.PostAsync($"/api/admin/webhooks/{id}/redeliver", null, admin)).IsProblem(HttpStatusCode.Conflict, "webhook_not_failed");
    }

    [Theory]
    [InlineData("ftp://example.com/hook")]
    [InlineData("file:///etc/passwd")]
    [InlineData("/relative/hook")]
    [InlineData("javascript:alert(1)")]
    public async Task Webhook_to_a_url_that_is_not_http_is_refused(string url)
    {
        var outbox = fx.Host.Services.GetRequiredService<Outbox>();
        await using var conn = new NpgsqlConnection(fx.Database.ConnectionString);
        await conn.OpenAsync(Ct);
        await using var tx = await conn.BeginTransactionAsync(Ct);
        var e = await Assert.ThrowsAsync<ArgumentException>(() => outbox.WebhookAsync(conn, tx, url, "x", new { }, Secret, Ct));
        Assert.Equal("url", e.ParamName);
    }
}

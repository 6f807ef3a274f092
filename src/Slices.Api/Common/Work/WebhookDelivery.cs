using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using Dapper;
using Npgsql;
using Slices.Api.Common.Data;
using Slices.Api.Common.Observability;

namespace Slices.Api.Common.Work;

// Delivers one queued webhook: `POST` of the stored body with `X-Signature`, `X-Delivery-Id` and
// `X-Event-Type`, 10 s timeout, no redirects. Every attempt is logged with its status code (or error) and
// the start of the response; anything but 2xx is a failure the job retries with backoff.
public sealed class WebhookDelivery(NpgsqlDataSource db, IHttpClientFactory httpClients, TimeProvider clock) : IJobHandler
{
    public const string JobKind = "webhook.deliver";
    public const string ClientName = "webhooks";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private const int SnippetBytes = 1024;

    public string Kind => JobKind;

    public static bool IsHttp(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps);

    public async Task RunAsync(Job job, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(job);
        var deliveryId = job.PayloadAs<WebhookJob>().DeliveryId;
        await using var conn = await db.OpenConnectionAsync(ct);
        var delivery = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            "SELECT id, delivery_id, url, event_type, body, signature, state FROM webhook_deliveries WHERE delivery_id = @deliveryId",
            new { deliveryId }, cancellationToken: ct))
            ?? throw new PermanentJobFailureException($"Webhook delivery {deliveryId} does not exist.");
        if (delivery.State == "delivered")
        {
            return;
        }

        if (!IsHttp(delivery.Url))
        {
            throw new PermanentJobFailureException("Webhooks are delivered to http(s) URLs only.");
        }

        // A child of the job's span; HttpClient's own span for the POST is a child of this one.
        using var activity = Telemetry.Source.StartActivity("webhook.deliver");
        activity?.SetTag("webhook.delivery_id", delivery.DeliveryId.ToString()).SetTag("webhook.event_type", delivery.EventType);
        var attemptedAt = clock.GetUtcNow().UtcDateTime;
        var started = clock.GetTimestamp();
        int? status = null;
        string? error = null;
        string? snippet = null;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, delivery.Url);
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(delivery.Body));
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            request.Headers.Add(WebhookSignature.Header, delivery.Signature);
            request.Headers.Add("X-Delivery-Id", delivery.DeliveryId.ToString());
            request.Headers.Add("X-Event-Type", delivery.EventType);
            using var response = await httpClients.CreateClient(ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            status = (int)response.StatusCode;
            snippet = await SnippetAsync(response, ct);
        }
        catch (HttpRequestException e)
        {
            error = e.Message;
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            error = $"No answer within {Timeout.TotalSeconds:0} s.";
        }

        var duration = (int)clock.GetElapsedTime(started).TotalMilliseconds;
        var delivered = status is >= 200 and < 300;
        activity?.SetTag("http.response.status_code", status);
        activity.Outcome(delivered ? "delivered" : "failed", delivered, error ?? $"The receiver answered {status}.");
        Telemetry.WebhookAttempts.Add(1, new TagList { { "event_type", delivery.EventType }, { "outcome", delivered ? "delivered" : "failed" } });
        const string log = """
            INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, error, response_snippet, duration_ms)
            VALUES (@Id, @attemptedAt, @status, @error, @snippet, @duration);
            UPDATE webhook_deliveries SET state = 'delivered', delivered_at = @attemptedAt WHERE id = @Id AND @delivered AND state <> 'delivered';
            """;
        await conn.ExecuteAsync(new CommandDefinition(log, new { delivery.Id, attemptedAt, status, error, snippet, duration, delivered }, cancellationToken: CancellationToken.None));
        if (!delivered)
        {
            throw new HttpRequestException(error ?? $"The receiver answered {status}.");
        }
    }

    // The worker records the job failed before it calls this, so an admin may have queued the job again in between (RetryJob,
    // RedeliverWebhook); the delivery then stays pending. Those lock the delivery row before the job's, and so does this: with
    // the row locked, a second statement (a fresh snapshot) sees whether a job of the delivery can still run.
    public async Task OnFailedAsync(Job job, string lastError, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(job);
        const string fail = """
            UPDATE webhook_deliveries d SET state = 'failed'
            WHERE d.delivery_id = @DeliveryId AND d.state = 'pending'
              AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = d.job_id AND j.state IN ('pending', 'running'))
            """;
        var args = job.PayloadAs<WebhookJob>();
        await db.InTransactionAsync(async (conn, tx) =>
        {
            await conn.ExecuteAsync(new CommandDefinition("SELECT 1 FROM webhook_deliveries WHERE delivery_id = @DeliveryId FOR UPDATE", args, tx, cancellationToken: ct));
            return await conn.ExecuteAsync(new CommandDefinition(fail, args, tx, cancellationToken: ct));
        }, ct);
    }

    private static async Task<string?> SnippetAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct);
        var buffer = new byte[SnippetBytes];
        var read = 0;
        int n;
        while (read < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(read), ct)) > 0)
        {
            read += n;
        }

        // PostgreSQL text cannot hold NUL.
        return read == 0 ? null : Encoding.UTF8.GetString(buffer, 0, read).Replace('\0', '\uFFFD');
    }

    public sealed record WebhookJob(Guid DeliveryId);

    private sealed record Row(long Id, Guid DeliveryId, string Url, string EventType, string Body, string Signature, string State);
}

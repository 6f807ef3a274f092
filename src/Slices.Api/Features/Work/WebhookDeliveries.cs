using System.Text.Json;

namespace Slices.Api.Features.Work;

// An outgoing webhook as admins see it in lists. Shared by the webhook admin slices.
public sealed record WebhookSummary(
    long Id, Guid DeliveryId, string Url, string EventType, string State, long Attempts, int? LastStatusCode, string? LastError,
    long? Job, DateTime CreatedAt, DateTime? DeliveredAt);

// One delivery with its body and every attempt.
public sealed record WebhookDetail(
    long Id, Guid DeliveryId, string Url, string EventType, string State, long Attempts, int? LastStatusCode, string? LastError,
    long? Job, DateTime CreatedAt, DateTime? DeliveredAt, JsonElement Body, IReadOnlyList<WebhookAttempt> AttemptLog);

public sealed record WebhookAttempt(DateTime AttemptedAt, int? StatusCode, string? Error, string? ResponseSnippet, int DurationMs);

public static class WebhookDeliveries
{
    public static readonly string[] States = ["pending", "delivered", "failed"];

    // WebhookSummary's columns, in its constructor's order, read from SummarySource.
    public const string SummaryColumns = """
        d.id, d.delivery_id, d.url, d.event_type, d.state,
        (SELECT count(*) FROM webhook_attempts a WHERE a.delivery_id = d.id) AS attempts,
        last.status_code AS last_status_code, last.error AS last_error, d.job_id AS job, d.created_at, d.delivered_at
        """;

    // `webhook_deliveries d` with its last attempt; append a WHERE on `d`.
    public const string SummarySource = """
        webhook_deliveries d
        LEFT JOIN LATERAL (
            SELECT a.status_code, a.error FROM webhook_attempts a WHERE a.delivery_id = d.id ORDER BY a.id DESC LIMIT 1
        ) last ON true
        """;

    // Selects WebhookSummary columns from `webhook_deliveries d`; append a WHERE on `d`.
    public const string SelectSummary = $"SELECT {SummaryColumns} FROM {SummarySource}";
}

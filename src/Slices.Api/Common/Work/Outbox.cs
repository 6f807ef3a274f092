using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using MimeKit;
using MimeKit.Utils;
using Npgsql;

namespace Slices.Api.Common.Work;

// An email to send: a plain-text body always, an HTML one optionally (build it with Format).
public sealed record EmailMessage(string To, string Subject, string TextBody, TrustedHtml? HtmlBody = null, string? ToName = null);

// Side effects written in the caller's transaction and delivered by a job after it commits: nothing is sent
// for a change that rolled back, and nothing is lost once it committed.
public sealed class Outbox(Jobs jobs, IOptions<EmailOptions> email, TimeProvider clock)
{
    // Queues message; returns the `outbox_emails` id.
    public async Task<long> EmailAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, EmailMessage message, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(conn);
        ArgumentNullException.ThrowIfNull(message);
        if (!MailboxAddress.TryParse(message.To, out var to) || to.Address.IndexOf('@', StringComparison.Ordinal) <= 0)
        {
            throw new ArgumentException($"'{message.To}' is not an email address.", nameof(message));
        }

        var from = MailboxAddress.Parse(email.Value.From);
        var messageId = MimeUtils.GenerateMessageId(from.Domain is { Length: > 0 } d ? d : "localhost");
        const string insert = """
            INSERT INTO outbox_emails (message_id, to_address, to_name, subject, text_body, html_body, job_id, created_at)
            VALUES (@messageId, @to, @toName, @subject, @text, @html, @jobId, @now)
            RETURNING id
            """;
        return await InTransactionAsync(conn, tx, async inTx => await conn.ExecuteScalarAsync<long>(new CommandDefinition(insert, new
        {
            messageId,
            to = to.Address,
            toName = message.ToName,
            subject = message.Subject.ReplaceLineEndings(" "),
            text = message.TextBody,
            html = message.HtmlBody?.Value,
            jobId = await jobs.EnqueueAsync(conn, inTx, EmailDelivery.JobKind, new EmailDelivery.EmailJob(messageId), null, ct),
            now = clock.GetUtcNow().UtcDateTime,
        }, inTx, cancellationToken: ct)), ct);
    }

    // Queues a signed `POST` of body (serialised as snake_case JSON) to url;
    // returns the `webhook_deliveries` id. The signature is computed now with secret,
    // which is not stored.
    public async Task<long> WebhookAsync(
        NpgsqlConnection conn, NpgsqlTransaction? tx, string url, string eventType, object body, string secret, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(conn);
        ArgumentException.ThrowIfNullOrEmpty(eventType);
        ArgumentException.ThrowIfNullOrEmpty(secret);
        if (!WebhookDelivery.IsHttp(url))
        {
            throw new ArgumentException($"Webhooks are delivered to absolute http(s) URLs only, not '{url}'.", nameof(url));
        }

        var json = JsonSerializer.Serialize(body, Jobs.JsonOptions);
        var deliveryId = Guid.CreateVersion7();
        const string insert = """
            INSERT INTO webhook_deliveries (delivery_id, url, event_type, body, signature, job_id, created_at)
            VALUES (@deliveryId, @url, @eventType, @json, @signature, @jobId, @now)
            RETURNING id
            """;
        return await InTransactionAsync(conn, tx, async inTx => await conn.ExecuteScalarAsync<long>(new CommandDefinition(insert, new
        {
            deliveryId,
            url,
            eventType,
            json,
            signature = WebhookSignature.Sign(secret, Encoding.UTF8.GetBytes(json)),
            jobId = await jobs.EnqueueAsync(conn, inTx, WebhookDelivery.JobKind, new WebhookDelivery.WebhookJob(deliveryId), null, ct),
            now = clock.GetUtcNow().UtcDateTime,
        }, inTx, cancellationToken: ct)), ct);
    }

    // The message row and its job commit together: in the caller's transaction, or in one of our own when given none.
    private static async Task<long> InTransactionAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Func<NpgsqlTransaction, Task<long>> work, CancellationToken ct)
    {
        if (tx is not null)
        {
            return await work(tx);
        }

        await using var own = await conn.BeginTransactionAsync(ct);
        var id = await work(own);
        await own.CommitAsync(ct);
        return id;
    }
}

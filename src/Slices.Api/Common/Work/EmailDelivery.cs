using System.Diagnostics;
using Dapper;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Options;
using MimeKit;
using Npgsql;
using Slices.Api.Common.Observability;

namespace Slices.Api.Common.Work;

// Delivers one queued email: over SMTP (MailKit) when `Email:Smtp:Host` is set, otherwise as an `.eml`
// file in `Email:PickupDirectory`. A run after the message was recorded as sent does nothing; a crash
// between handing it over and recording it sends it again with the same `Message-ID`, by which mail
// clients fold duplicates (a pickup file is simply rewritten under the same name).
public sealed class EmailDelivery(NpgsqlDataSource db, IOptions<EmailOptions> options, TimeProvider clock) : IJobHandler
{
    public const string JobKind = "email.send";

    public string Kind => JobKind;

    public async Task RunAsync(Job job, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(job);
        var messageId = job.PayloadAs<EmailJob>().MessageId;
        const string load = """
            SELECT id, message_id, to_address, to_name, subject, text_body, html_body, state, created_at
            FROM outbox_emails WHERE message_id = @messageId
            """;
        await using var conn = await db.OpenConnectionAsync(ct);
        var email = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(load, new { messageId }, cancellationToken: ct))
            ?? throw new PermanentJobFailureException($"Email {messageId} is not in the outbox.");
        if (email.State == "sent")
        {
            return;
        }

        var message = ToMime(email);
        var settings = options.Value;
        var transport = string.IsNullOrWhiteSpace(settings.Smtp.Host) ? "pickup" : "smtp";
        // A child of the job's span.
        using (var activity = Telemetry.Source.StartActivity("email.send"))
        {
            activity?.SetTag("email.transport", transport);
            var sent = false;
            try
            {
                await (transport == "pickup" ? WriteToPickupAsync(message, email, settings.PickupDirectory!, ct) : SendAsync(message, settings.Smtp, ct));
                sent = true;
            }
            finally
            {
                activity.Outcome(sent ? "sent" : "failed", sent);
                Telemetry.EmailDeliveries.Add(1, new TagList { { "transport", transport }, { "outcome", sent ? "sent" : "failed" } });
            }
        }

        await conn.ExecuteAsync(new CommandDefinition(
            "UPDATE outbox_emails SET state = 'sent', sent_at = @now WHERE id = @id AND state <> 'sent'",
            new { email.Id, now = clock.GetUtcNow().UtcDateTime }, cancellationToken: CancellationToken.None));
    }

    public async Task OnFailedAsync(Job job, string lastError, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(job);
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(
            "UPDATE outbox_emails SET state = 'failed' WHERE message_id = @MessageId AND state = 'pending'",
            job.PayloadAs<EmailJob>(), cancellationToken: ct));
    }

    private MimeMessage ToMime(Row email)
    {
        var message = new MimeMessage { Subject = email.Subject, MessageId = email.MessageId, Date = new DateTimeOffset(email.CreatedAt, TimeSpan.Zero) };
        message.From.Add(MailboxAddress.Parse(options.Value.From));
        message.To.Add(new MailboxAddress(email.ToName, email.ToAddress));
        message.Body = new BodyBuilder { TextBody = email.TextBody, HtmlBody = email.HtmlBody }.ToMessageBody();
        return message;
    }

    private static async Task SendAsync(MimeMessage message, SmtpOptions smtp, CancellationToken ct)
    {
        var security = !smtp.UseTls ? SecureSocketOptions.None : smtp.Port == 465 ? SecureSocketOptions.SslOnConnect : SecureSocketOptions.StartTls;
        using var client = new SmtpClient { Timeout = 30_000 };
        await client.ConnectAsync(smtp.Host!, smtp.Port, security, ct);
        if (!string.IsNullOrEmpty(smtp.Username))
        {
            await client.AuthenticateAsync(smtp.Username, smtp.Password ?? string.Empty, ct);
        }

        await client.SendAsync(message, ct);
        await client.DisconnectAsync(quit: true, ct);
    }

    private static async Task WriteToPickupAsync(MimeMessage message, Row email, string directory, CancellationToken ct)
    {
        Directory.CreateDirectory(directory);
        // Named after the message, so a repeated run rewrites the same file instead of adding a second one.
        var name = $"{email.CreatedAt:yyyyMMdd-HHmmss}-{string.Concat(email.MessageId.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_'))}.eml";
        var temporary = Path.Combine(directory, name + ".tmp");
        await message.WriteToAsync(temporary, ct);
        File.Move(temporary, Path.Combine(directory, name), overwrite: true);
    }

    public sealed record EmailJob(string MessageId);

    private sealed record Row(
        long Id, string MessageId, string ToAddress, string? ToName, string Subject, string TextBody, string? HtmlBody, string State, DateTime CreatedAt);
}

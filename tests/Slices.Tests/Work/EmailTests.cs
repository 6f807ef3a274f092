using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MimeKit;
using Npgsql;
using Slices.Api.Common.Work;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Work;

public sealed class EmailTests(SlicesFixture fx)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static EmailMessage Message(string to, string name) => new(
        to,
        $"Your table is booked, {name}",
        $"Dear {name},\nsee you on Friday.",
        Html.Document("Booked", Html.Format($"<p>Dear {name},</p><p>see you on <b>Friday</b>.</p>")),
        name);

    [Fact]
    public async Task Email_reaches_an_smtp_server_with_its_recipient_subject_and_bodies()
    {
        await using var smtp = SmtpSink.Start();
        var settings = new Dictionary<string, string?>
        {
            ["Email:From"] = "Slices Bookings <bookings@slices.test>",
            ["Email:Smtp:Host"] = "127.0.0.1",
            ["Email:Smtp:Port"] = smtp.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Email:Smtp:UseTls"] = "false",
        };
        await using var host = await WorkHost.StartAsync(fx, settings: settings);
        var to = $"guest-{Guid.NewGuid():N}@example.com";
        const string name = "Zoë <script>alert('x')</script> & Co";

        long id;
        await using (var conn = await host.OpenAsync())
        {
            await using var tx = await conn.BeginTransactionAsync(Ct);
            id = await host.Outbox.EmailAsync(conn, tx, Message(to, name), Ct);
            await tx.CommitAsync(Ct);
        }

        var mail = await smtp.NextAsync();
        Assert.Equal(to, Assert.Single(mail.To.Mailboxes).Address);
        Assert.Equal(name, mail.To.Mailboxes.First().Name);
        Assert.Equal("bookings@slices.test", Assert.Single(mail.From.Mailboxes).Address);
        Assert.Equal($"Your table is booked, {name}", mail.Subject);
        Assert.Equal($"Dear {name},\nsee you on Friday.", mail.TextBody?.ReplaceLineEndings("\n").TrimEnd());
        Assert.Contains("<p>Dear Zoë &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; Co,</p>", mail.HtmlBody, StringComparison.Ordinal);
        Assert.DoesNotContain("<script>", mail.HtmlBody, StringComparison.Ordinal);

        await Eventually.HoldsAsync(async () => await host.ScalarAsync<string>("SELECT state FROM outbox_emails WHERE id = @id", new { id }) == "sent", () => "email not marked sent");
        Assert.Equal(await host.ScalarAsync<string>("SELECT message_id FROM outbox_emails WHERE id = @id", new { id }), mail.MessageId);
    }

    [Fact]
    public async Task Without_an_smtp_host_an_email_is_written_as_an_eml_file()
    {
        var pickup = fx.Host.Services.GetRequiredService<IOptions<EmailOptions>>().Value.PickupDirectory!;
        var outbox = fx.Host.Services.GetRequiredService<Outbox>();
        var to = $"guest-{Guid.NewGuid():N}@example.com";
        string messageId;
        await using (var conn = new NpgsqlConnection(fx.Database.ConnectionString))
        {
            await conn.OpenAsync(Ct);
            await using var tx = await conn.BeginTransactionAsync(Ct);
            var id = await outbox.EmailAsync(conn, tx, Message(to, "Ann"), Ct);
            messageId = await conn.ExecuteScalarAsync<string>("SELECT message_id FROM outbox_emails WHERE id = @id", new { id }, tx) ?? "";
            await tx.CommitAsync(Ct);
        }

        string? file = null;
        var localPart = messageId.Split('@')[0];
        await Eventually.HoldsAsync(
            () => (file = Directory.Exists(pickup) ? Directory.GetFiles(pickup, $"*{localPart}*.eml").SingleOrDefault() : null) is not null,
            () => $"no .eml for {messageId} in {pickup}");

        var mail = await MimeMessage.LoadAsync(file!, Ct);
        Assert.Equal(messageId, mail.MessageId);
        Assert.Equal(to, Assert.Single(mail.To.Mailboxes).Address);
        Assert.Equal("Your table is booked, Ann", mail.Subject);
        Assert.Contains("<p>Dear Ann,</p>", mail.HtmlBody, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_hand_retry_of_a_failed_email_job_puts_its_outbox_row_back_to_pending()
    {
        // No workers: the retried job must stay pending while the test looks at it.
        await using var host = await WorkHost.StartAsync(fx, settings: new Dictionary<string, string?> { ["Work:Concurrency"] = "0" });
        long job;
        await using (var conn = await host.OpenAsync())
        {
            var id = await host.Outbox.EmailAsync(conn, null, Message($"guest-{Guid.NewGuid():N}@example.com", "Ann"), Ct);
            job = await conn.ExecuteScalarAsync<long>("SELECT job_id FROM outbox_emails WHERE id = @id", new { id });
            // What the worker leaves after the last attempt failed (JobWorker, then EmailDelivery.OnFailedAsync).
            await conn.ExecuteAsync("UPDATE jobs SET state = 'failed', attempts = max_attempts, finished_at = now(), last_error = 'SmtpException: refused' WHERE id = @job", new { job });
            await conn.ExecuteAsync("UPDATE outbox_emails SET state = 'failed' WHERE id = @id", new { id });
        }

        var admin = (await host.Api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;
        (await host.Api.PostAsync($"/api/admin/jobs/{job}/retry", null, admin)).Is(System.Net.HttpStatusCode.Accepted);

        Assert.Equal("pending", await host.ScalarAsync<string>("SELECT state FROM outbox_emails WHERE job_id = @job", new { job }));
        Assert.Equal("pending", await host.ScalarAsync<string>("SELECT state FROM jobs WHERE id = @job", new { job }));
    }

    [Fact]
    public async Task An_email_written_in_a_rolled_back_transaction_is_never_sent()
    {
        var outbox = fx.Host.Services.GetRequiredService<Outbox>();
        var to = $"guest-{Guid.NewGuid():N}@example.com";
        await using var conn = new NpgsqlConnection(fx.Database.ConnectionString);
        await conn.OpenAsync(Ct);
        await using (var tx = await conn.BeginTransactionAsync(Ct))
        {
            await outbox.EmailAsync(conn, tx, Message(to, "Ann"), Ct);
            await tx.RollbackAsync(Ct);
        }

        Assert.Equal(0, await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM outbox_emails WHERE to_address = @to", new { to }));
    }

    [Fact]
    public async Task An_address_that_is_not_one_is_refused_at_once()
    {
        var outbox = fx.Host.Services.GetRequiredService<Outbox>();
        await using var conn = new NpgsqlConnection(fx.Database.ConnectionString);
        await conn.OpenAsync(Ct);
        await Assert.ThrowsAsync<ArgumentException>(() => outbox.EmailAsync(conn, null, Message("not an address", "Ann"), Ct));
    }

    [Fact]
    public void Html_templates_encode_every_inserted_value_but_not_trusted_fragments()
    {
        var comment = "\"><img src=x onerror=alert(1)>";
        var row = Html.Format($"<td title=\"{comment}\">{comment}</td>");
        var table = Html.Format($"<table><tr>{row}</tr><tr><td>{42.5m:0.00}</td></tr></table>");

        Assert.Equal(
            "<table><tr><td title=\"&quot;&gt;&lt;img src=x onerror=alert(1)&gt;\">&quot;&gt;&lt;img src=x onerror=alert(1)&gt;</td></tr><tr><td>42.50</td></tr></table>",
            table.Value);
    }
}

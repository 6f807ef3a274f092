using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Slices.Api.Common.Work;

namespace Slices.Api.Features.Restaurant;

// The body posted to the accounting system: `{event, reservation}`.
public sealed record AccountingEvent(string Event, Reservation Reservation);

// Sends reservation events to the accounting system as signed webhooks (`Restaurant:Accounting:Url`, signed
// with `Restaurant:Accounting:Secret`), written in the caller's transaction. With no URL configured an event
// is held instead: it becomes a ForwardKind job that stays pending (listed under
// `GET /api/admin/jobs?state=pending&kind=restaurant.accounting.forward`, its `last_error` saying why), looked at
// again every HeldRecheck without using up attempts, and turned into the webhook delivery by the first instance that
// runs with a URL.
public sealed class AccountingFeed(Outbox outbox, Jobs jobs, IOptions<RestaurantOptions> options)
{
    public const string ForwardKind = "restaurant.accounting.forward";

    // How long a held event waits before an instance looks for a URL again (settings change with a restart).
    public static readonly TimeSpan HeldRecheck = TimeSpan.FromMinutes(1);

    public async Task PublishAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string eventType, Reservation r, CancellationToken ct)
    {
        var body = new AccountingEvent(eventType, r);
        var accounting = options.Value.Accounting;
        if (!string.IsNullOrEmpty(accounting.Url))
        {
            await outbox.WebhookAsync(conn, tx, accounting.Url, eventType, body, accounting.Secret!, ct);
        }
        else
        {
            await jobs.EnqueueAsync(conn, tx, ForwardKind, new HeldEvent(eventType, JsonSerializer.SerializeToElement(body, Jobs.JsonOptions)), null, ct);
        }
    }

    public sealed record HeldEvent(string EventType, JsonElement Body);
}

// Turns a held accounting event into its webhook delivery once a URL is configured; effect once per job.
public sealed class ForwardHeldAccountingEvent(NpgsqlDataSource db, Outbox outbox, IOptions<RestaurantOptions> options, TimeProvider clock) : IJobHandler
{
    public string Kind => AccountingFeed.ForwardKind;

    public async Task RunAsync(Job job, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(job);
        var accounting = options.Value.Accounting;
        if (string.IsNullOrEmpty(accounting.Url))
        {
            throw new JobDeferredException(
                "Restaurant:Accounting:Url is not configured, so this event is held; it is sent once an instance runs with a URL (checked every minute).",
                AccountingFeed.HeldRecheck);
        }

        var held = job.PayloadAs<AccountingFeed.HeldEvent>();
        const string record = """
            INSERT INTO restaurant_accounting_forwards (job_id, webhook_id, created_at) VALUES (@jobId, @webhookId, @now)
            ON CONFLICT (job_id) DO NOTHING
            """;
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var webhookId = await outbox.WebhookAsync(conn, tx, accounting.Url, held.EventType, held.Body, accounting.Secret!, ct);
        var args = new { jobId = job.Id, webhookId, now = clock.GetUtcNow().UtcDateTime };
        // A run that finds the job recorded already (an earlier run's outcome was lost) leaves its own delivery uncommitted.
        if (await conn.ExecuteAsync(new CommandDefinition(record, args, tx, cancellationToken: ct)) == 1)
        {
            await tx.CommitAsync(ct);
        }
    }
}

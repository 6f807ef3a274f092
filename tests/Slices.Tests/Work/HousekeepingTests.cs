using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Slices.Api.Common.Work;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Work;

// Housekeeping runs on an instance over a database of its own, so that what it deletes and keeps can be counted
// exactly; rows are written by SQL with times relative to the instance's clock.
public sealed class HousekeepingTests(SlicesFixture fx)
{
    // The workers stay off: the pending job written below must stay pending.
    private static readonly Dictionary<string, string?> NoWorkers = new() { ["Work:Concurrency"] = "0" };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Housekeeping Of(WorkHost host) => host.Host.Services.GetRequiredService<Housekeeping>();

    [Fact]
    public async Task A_run_deletes_rows_past_retention_and_keeps_rows_within_it_and_failed_jobs()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await WorkHost.StartAsync(fx, settings: NoWorkers, clock: clock);
        var now = clock.GetUtcNow().UtcDateTime;
        await using var conn = await host.OpenAsync();
        var admin = await conn.ExecuteScalarAsync<long>("SELECT id FROM users WHERE username = @AdminUsername", new { SlicesFixture.AdminUsername });

        const string keys = "INSERT INTO idempotency_keys (caller, key, request_hash, created_at) VALUES ('user:1', @key, '\\x00', @at)";
        await conn.ExecuteAsync(keys, new[] { new { key = "expired", at = now.AddHours(-24).AddSeconds(-1) }, new { key = "fresh", at = now.AddHours(-23) } });
        const string failures = "INSERT INTO login_failures (account, failures, window_start) VALUES (@account, 3, @at)";
        await conn.ExecuteAsync(failures, new[] { new { account = "stale", at = now.AddMinutes(-16) }, new { account = "recent", at = now.AddMinutes(-14) } });

        var live = await SessionAsync(conn, admin, revokedAt: null);
        var revokedLongAgo = await SessionAsync(conn, admin, now.AddDays(-8));
        var revokedLately = await SessionAsync(conn, admin, now.AddDays(-6));
        await TokenAsync(conn, "expired-long-ago", live, now.AddDays(-8));
        await TokenAsync(conn, "expired-lately", live, now.AddDays(-6));
        await TokenAsync(conn, "valid", live, now.AddDays(10));
        await TokenAsync(conn, "of-session-revoked-long-ago", revokedLongAgo, now.AddDays(10));
        await TokenAsync(conn, "of-session-revoked-lately", revokedLately, now.AddDays(10));
        // Never revoked: a client that stopped without logging out. Its last token expired long ago, so the session goes
        // with it; one whose token expired lately stays, as does an admin-panel session (never any tokens) and a session
        // started just now whose token is not written yet.
        var abandoned = await SessionAsync(conn, admin, revokedAt: null);
        await TokenAsync(conn, "of-abandoned-session", abandoned, now.AddDays(-9));
        var abandonedLately = await SessionAsync(conn, admin, revokedAt: null);
        await TokenAsync(conn, "of-session-abandoned-lately", abandonedLately, now.AddDays(-6));
        var panel = await SessionAsync(conn, admin, revokedAt: null, refreshable: false);
        var starting = await SessionAsync(conn, admin, revokedAt: null, createdAt: now);

        var old = now.AddDays(-31);
        var emailed = await JobAsync(conn, "succeeded", old);
        await EmailAsync(conn, emailed, "sent");
        var posted = await JobAsync(conn, "succeeded", old);
        var delivery = await WebhookAsync(conn, posted, "delivered");
        await conn.ExecuteAsync(
            "INSERT INTO restaurant_accounting_forwards (job_id, webhook_id, created_at) VALUES (@job, @delivery, @old)",
            new { job = await JobAsync(conn, "succeeded", old), delivery, old });
        var recent = await JobAsync(conn, "succeeded", now.AddDays(-29));
        await EmailAsync(conn, recent, "sent");
        var failed = await JobAsync(conn, "failed", now.AddDays(-90));
        await EmailAsync(conn, failed, "failed");
        var undelivered = await JobAsync(conn, "succeeded", old);
        await WebhookAsync(conn, undelivered, "pending");
        var pending = await JobAsync(conn, "pending", null, createdAt: now.AddDays(-90));

        var purged = await Of(host).RunOnceAsync(Ct);

        Assert.Equal(new Housekeeping.Purged(IdempotencyKeys: 1, LoginFailures: 1, RefreshTokens: 3, Sessions: 2, Jobs: 3), purged);
        Assert.Equal("fresh", Assert.Single(await conn.QueryAsync<string>("SELECT key FROM idempotency_keys")));
        Assert.Equal("recent", Assert.Single(await conn.QueryAsync<string>("SELECT account::text FROM login_failures")));
        Assert.Equal(
            "expired-lately, of-session-abandoned-lately, of-session-revoked-lately, valid",
            string.Join(", ", await conn.QueryAsync<string>("SELECT convert_from(token_hash, 'UTF8') FROM refresh_tokens ORDER BY 1")));
        Assert.Equal(
            new[] { live, revokedLately, abandonedLately, panel, starting }.Order(),
            (await conn.QueryAsync<Guid>(
                "SELECT id FROM sessions WHERE id = ANY(@ids)",
                new { ids = new[] { live, revokedLongAgo, revokedLately, abandoned, abandonedLately, panel, starting } })).Order());
        Assert.Equal(
            new[] { recent, failed, undelivered, pending }.Order(),
            await conn.QueryAsync<long>("SELECT id FROM jobs ORDER BY id"));
        Assert.Equal(new[] { recent, failed }.Order(), await conn.QueryAsync<long>("SELECT job_id FROM outbox_emails ORDER BY job_id"));
        Assert.Equal(new[] { undelivered }, await conn.QueryAsync<long>("SELECT job_id FROM webhook_deliveries"));
        // The purged delivery's attempt log went with it; the undelivered one's stays.
        Assert.Equal(new[] { undelivered }, await conn.QueryAsync<long>("SELECT d.job_id FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id"));
        Assert.Equal(1, await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM webhook_attempts"));
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM restaurant_accounting_forwards"));

        // Nothing left to delete: a second run finds nothing.
        Assert.Equal(0, (await Of(host).RunOnceAsync(Ct)).Total);
    }

    [Fact]
    public async Task A_session_signed_up_and_never_used_again_is_purged_once_its_refresh_token_is_gone()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await WorkHost.StartAsync(fx, settings: NoWorkers, clock: clock);
        var user = await host.Api.SignUpAsync();
        const string sessions = "SELECT count(*) FROM sessions WHERE user_id = @Id";

        // Refresh tokens live 14 days and are kept 7 more (Housekeeping:RefreshTokenRetention).
        clock.Advance(TimeSpan.FromDays(20));
        await Of(host).RunOnceAsync(Ct);
        Assert.Equal(1, await host.ScalarAsync<long>(sessions, new { user.Id }));

        // Advancing the clock also fires the service's own purge, which may get there first: judge by what is left.
        clock.Advance(TimeSpan.FromDays(2));
        await Of(host).RunOnceAsync(Ct);
        Assert.Equal(0, await host.ScalarAsync<long>(sessions, new { user.Id }));
    }

    [Fact]
    public async Task The_service_purges_by_itself_once_an_interval_has_passed()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var settings = new Dictionary<string, string?>(NoWorkers) { ["Housekeeping:Interval"] = "00:10:00" };
        await using var host = await WorkHost.StartAsync(fx, settings: settings, clock: clock);
        const string insert = "INSERT INTO idempotency_keys (caller, key, request_hash, created_at) VALUES ('user:1', 'k', '\\x00', @at)";
        await using (var conn = await host.OpenAsync())
        {
            await conn.ExecuteAsync(insert, new { at = clock.GetUtcNow().UtcDateTime.AddDays(-2) });
        }

        clock.Advance(TimeSpan.FromMinutes(9));
        // Long enough for a run that should not have happened to show.
        await Task.Delay(300, Ct);
        Assert.Equal(1, await host.ScalarAsync<long>("SELECT count(*) FROM idempotency_keys"));

        clock.Advance(TimeSpan.FromMinutes(1));
        await Eventually.HoldsAsync(
            async () =>
            {
                // See WorkHost.WaitForJobAsync: a zero advance fires a timer that FakeTimeProvider missed.
                clock.Advance(TimeSpan.Zero);
                return await host.ScalarAsync<long>("SELECT count(*) FROM idempotency_keys") == 0;
            },
            () => $"the expired key is still there; logged: {string.Join(" | ", host.Logs.Lines)}");
    }

    [Fact]
    public async Task Two_instances_purging_at_once_delete_every_row_exactly_once_in_batches()
    {
        var database = await WorkHost.NewDatabaseAsync(fx);
        var settings = new Dictionary<string, string?>(NoWorkers) { ["Housekeeping:BatchSize"] = "50" };
        await using var a = await WorkHost.StartAsync(fx, settings: settings, connectionString: database);
        await using var b = await WorkHost.StartAsync(fx, settings: settings, connectionString: database);
        const string seed = """
            INSERT INTO idempotency_keys (caller, key, request_hash, created_at)
            SELECT 'user:1', 'k' || n, '\x00', now() - interval '2 days' FROM generate_series(1, 1030) n;
            WITH j AS (
                INSERT INTO jobs (kind, payload, state, run_at, max_attempts, created_at, updated_at, finished_at)
                SELECT 'email.send', '{}', 'succeeded', now() - interval '40 days', 1, now() - interval '40 days',
                       now() - interval '40 days', now() - interval '40 days'
                FROM generate_series(1, 420) n
                RETURNING id, finished_at
            )
            INSERT INTO outbox_emails (message_id, to_address, subject, text_body, state, job_id, created_at, sent_at)
            SELECT 'm' || id || '@test', 'ann@example.com', 's', 't', 'sent', id, finished_at, finished_at FROM j;
            """;
        await using (var conn = await a.OpenAsync())
        {
            await conn.ExecuteAsync(seed);
        }

        var runs = await Task.WhenAll(Of(a).RunOnceAsync(Ct), Of(b).RunOnceAsync(Ct));

        Assert.Equal(1030, runs.Sum(r => r.IdempotencyKeys));
        Assert.Equal(420, runs.Sum(r => r.Jobs));
        Assert.Equal(0, await a.ScalarAsync<long>("SELECT (SELECT count(*) FROM idempotency_keys) + (SELECT count(*) FROM jobs) + (SELECT count(*) FROM outbox_emails)"));
    }

    private static async Task<Guid> SessionAsync(NpgsqlConnection conn, long userId, DateTime? revokedAt, bool refreshable = true, DateTime? createdAt = null)
    {
        var id = Guid.NewGuid();
        await conn.ExecuteAsync(
            "INSERT INTO sessions (id, user_id, created_at, revoked_at, refreshable) VALUES (@id, @userId, @createdAt, @revokedAt, @refreshable)",
            new { id, userId, createdAt = createdAt ?? DateTime.UtcNow.AddDays(-20), revokedAt, refreshable });
        return id;
    }

    // The name stands in for the hash, so that the test can tell the tokens apart.
    private static async Task TokenAsync(NpgsqlConnection conn, string name, Guid sessionId, DateTime expiresAt) => await conn.ExecuteAsync(
        "INSERT INTO refresh_tokens (token_hash, session_id, expires_at, spent_at) VALUES (convert_to(@name, 'UTF8'), @sessionId, @expiresAt, NULL)",
        new { name, sessionId, expiresAt });

    private static Task<long> JobAsync(NpgsqlConnection conn, string state, DateTime? finishedAt, DateTime? createdAt = null)
    {
        var created = createdAt ?? finishedAt!.Value.AddMinutes(-1);
        return conn.ExecuteScalarAsync<long>(
            """
            INSERT INTO jobs (kind, payload, state, run_at, max_attempts, created_at, updated_at, finished_at)
            VALUES ('email.send', '{}', @state, @created, 1, @created, coalesce(@finishedAt, @created), @finishedAt)
            RETURNING id
            """,
            new { state, created, finishedAt });
    }

    private static async Task EmailAsync(NpgsqlConnection conn, long jobId, string state) => await conn.ExecuteAsync(
        """
        INSERT INTO outbox_emails (message_id, to_address, subject, text_body, state, job_id, created_at)
        VALUES (@messageId, 'ann@example.com', 'Hello', 'Hello', @state, @jobId, now())
        """,
        new { messageId = $"{Guid.NewGuid()}@test", state, jobId });

    private static async Task<long> WebhookAsync(NpgsqlConnection conn, long jobId, string state)
    {
        var id = await conn.ExecuteScalarAsync<long>(
            """
            INSERT INTO webhook_deliveries (delivery_id, url, event_type, body, signature, state, job_id, created_at)
            VALUES (@deliveryId, 'http://127.0.0.1:9/', 'test', '{}', 'sha256=00', @state, @jobId, now())
            RETURNING id
            """,
            new { deliveryId = Guid.NewGuid(), state, jobId });
        await conn.ExecuteAsync(
            "INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, duration_ms) VALUES (@id, now(), 200, 5)", new { id });
        return id;
    }
}

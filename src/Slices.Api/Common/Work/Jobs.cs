using System.Collections.Frozen;
using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Slices.Api.Common.Http;

namespace Slices.Api.Common.Work;

// A job as admins and enqueuers read it back.
public sealed record JobView(
    long Id, string Kind, string State, JsonElement Payload, DateTime RunAt, int Attempts, int MaxAttempts,
    string? LastError, DateTime? LockedUntil, DateTime CreatedAt, DateTime UpdatedAt, DateTime? FinishedAt);

// The durable job queue. Enqueue on the caller's connection and transaction: the job exists exactly when the
// caller's change commits, and the workers hear of it (NOTIFY is transactional too) only then.
public sealed class Jobs(TimeProvider clock, IOptions<WorkOptions> options, JobKinds kinds)
{
    // The LISTEN/NOTIFY channel that wakes idle workers.
    public const string Channel = "slices_jobs";

    // Columns for Row, in its constructor's order.
    public const string Columns = """
        j.id, j.kind, j.state, j.payload::text AS payload, j.run_at, j.attempts, j.max_attempts, j.last_error,
        j.locked_until, j.created_at, j.updated_at, j.finished_at
        """;

    // Wakes idle workers on every instance, sent with the transaction that makes a job due.
    internal const string Notify = $"SELECT pg_notify('{Channel}', '')";

    // Payloads are written and read as the API writes JSON: snake_case members.
    public static JsonSerializerOptions JsonOptions { get; } = CreateJsonOptions();

    // Adds a job of kind due at runAt (null: now) with the default attempts.
    public Task<long> EnqueueAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string kind, object payload, DateTimeOffset? runAt, CancellationToken ct) =>
        EnqueueAsync(conn, tx, kind, payload, runAt, options.Value.MaxAttempts, ct);

    public async Task<long> EnqueueAsync(
        NpgsqlConnection conn, NpgsqlTransaction? tx, string kind, object payload, DateTimeOffset? runAt, int maxAttempts, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(conn);
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        EnsureHandled(kind);

        const string insert = """
            INSERT INTO jobs (kind, payload, run_at, max_attempts, created_at, updated_at)
            VALUES (@kind, @payload::jsonb, @runAt, @maxAttempts, @now, @now)
            RETURNING id
            """;
        var now = clock.GetUtcNow().UtcDateTime;
        // Idle workers look at the queue again within Work:PollInterval and then sleep no longer than until the next
        // due job, so a job due later than that needs no wake-up; waking them costs each worker two queries for
        // nothing (the hold-confirm benchmark queues a hold's expiry for every hold).
        var wake = runAt is null || runAt.Value.UtcDateTime - now < options.Value.PollInterval;
        return await conn.ExecuteScalarAsync<long>(new CommandDefinition(wake ? $"{insert}; {Notify}" : insert, new
        {
            kind,
            payload = JsonSerializer.Serialize(payload, JsonOptions),
            runAt = runAt?.UtcDateTime ?? now,
            maxAttempts,
            now,
        }, tx, cancellationToken: ct));
    }

    // For a write that queues a job per row it writes, in the same statement (a data-modifying WITH) and so in no
    // round trip of its own: an INSERT … SELECT of a job of kind for each row of `rows`, with payload and run_at as SQL
    // expressions over them, the default attempts, and @now (the statement's parameter) as created_at. It sends no
    // wake-up: for jobs due later than Work:PollInterval, which idle workers find by themselves (see EnqueueAsync).
    public string InsertEach(string kind, string rows, string payload, string runAt)
    {
        EnsureHandled(kind);

        return $"""
            INSERT INTO jobs (kind, payload, run_at, max_attempts, created_at, updated_at)
            SELECT '{kind.Replace("'", "''", StringComparison.Ordinal)}', {payload}, {runAt}, {options.Value.MaxAttempts}, @now, @now FROM {rows}
            """;
    }

    private void EnsureHandled(string kind)
    {
        if (!kinds.Contains(kind))
        {
            throw new ArgumentException($"No job handler is registered for kind '{kind}'.", nameof(kind));
        }
    }

    // Puts a failed job back in the queue, due now, with a fresh set of attempts; false when it is not failed.
    public async Task<bool> RetryAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long id, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(conn);
        const string retry = """
            UPDATE jobs SET state = 'pending', attempts = 0, run_at = @now, updated_at = @now, finished_at = NULL
            WHERE id = @id AND state = 'failed'
            """;
        var now = clock.GetUtcNow().UtcDateTime;
        if (await conn.ExecuteAsync(new CommandDefinition(retry, new { id, now }, tx, cancellationToken: ct)) == 0)
        {
            return false;
        }

        await conn.ExecuteAsync(new CommandDefinition(Notify, transaction: tx, cancellationToken: ct));
        return true;
    }

    public static async Task<JobView?> FindAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long id, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(conn);
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"SELECT {Columns} FROM jobs j WHERE j.id = @id", new { id }, tx, cancellationToken: ct));
        return row?.ToView();
    }

    private static JsonSerializerOptions CreateJsonOptions()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        Json.Configure(o);
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }

    // A `jobs` row as selected by Columns.
    public sealed record Row(
        long Id, string Kind, string State, string Payload, DateTime RunAt, int Attempts, int MaxAttempts,
        string? LastError, DateTime? LockedUntil, DateTime CreatedAt, DateTime UpdatedAt, DateTime? FinishedAt)
    {
        public JobView ToView()
        {
            using var payload = JsonDocument.Parse(Payload);
            return new JobView(Id, Kind, State, payload.RootElement.Clone(), RunAt, Attempts, MaxAttempts, LastError, LockedUntil, CreatedAt, UpdatedAt, FinishedAt);
        }
    }
}

// The job kinds this instance can run, read once from the registered IJobHandlers. Two handlers
// claiming one kind is a programming error and stops the start-up.
public sealed class JobKinds(IServiceScopeFactory scopes)
{
    private readonly Lazy<FrozenSet<string>> kinds = new(() =>
    {
        using var scope = scopes.CreateScope();
        var all = scope.ServiceProvider.GetServices<IJobHandler>().Select(h => h.Kind).ToList();
        var duplicates = all.GroupBy(k => k, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        if (duplicates.Count > 0)
        {
            throw new InvalidOperationException($"More than one job handler for kind(s): {string.Join(", ", duplicates)}.");
        }

        return all.ToFrozenSet(StringComparer.Ordinal);
    });

    public IReadOnlyCollection<string> All => kinds.Value;

    public bool Contains(string kind) => kinds.Value.Contains(kind);

    public static IJobHandler? Resolve(IServiceProvider services, string kind) =>
        services.GetServices<IJobHandler>().FirstOrDefault(h => h.Kind == kind);
}

using Dapper;
using Npgsql;
using NpgsqlTypes;
using Slices.Api.Common;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;
using Slices.Api.Common.Work;

[assembly: PgConstraint("holds_one_active_per_training_and_user", 409, "already_held", "You hold a place in this training already.")]

namespace Slices.Api.Features.Holds;

// A hold as every hold route shows it. The members of the held thing are those of its kind; the others are null.
// `status` is as the client sees it: an active hold past expires_at is `expired`, whether or not its job has run yet.
public sealed record Hold(
    long Id, string Kind, string Status, bool Offer,
    long? Stage, DateOnly? Date, TimeOnly? StartTime, TimeOnly? EndTime,
    long? Training,
    long? Cassette, int? Quantity,
    long? Table, DateTime? StartsAt, int? Duration,
    DateTime ExpiresAt, DateTime CreatedAt, string? Location);

// What a hold keeps, as its kind's members; ends_at is starts_at plus the duration.
public sealed record HoldTarget(
    string Kind, long? Stage, DateOnly? Date, TimeOnly? StartTime, TimeOnly? EndTime, long? Training, long? Cassette, int? Quantity,
    long? Table, DateTime? StartsAt, DateTime? EndsAt);

public static class HoldKind
{
    public const string StageSlot = "stage_slot";
    public const string TrainingPlace = "training_place";
    public const string Cassette = "cassette";
    public const string RestaurantTable = "restaurant_table";

    public static readonly string[] All = [StageSlot, TrainingPlace, Cassette, RestaurantTable];
}

public static class HoldStatus
{
    public const string Active = "active";
    public const string Expired = "expired";
    public const string Released = "released";
    public const string Converted = "converted";

    public static readonly string[] All = [Active, Expired, Released, Converted];
}

// Holds:MaxActivePerUser: how many holds a user may have active at once (waitlist offers not counted), so that holds
// cannot lock a business out.
public sealed class HoldSettings
{
    public const int DefaultTtlSeconds = 600;
    public const int MinTtlSeconds = 30;
    public const int MaxTtlSeconds = 3600;

    // However often it is extended, a hold ends at most this long after it was made (db: holds_at_most_an_hour).
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromHours(1);

    public required int MaxActivePerUser { get; init; }

    // Waitlist:OfferTtl: how long a waitlist offer is held for the person it is offered to.
    public required TimeSpan OfferTtl { get; init; }

    public static HoldSettings Load(IConfiguration config) => new()
    {
        MaxActivePerUser = Settings.Number(config, "Holds:MaxActivePerUser", 5, 1, 1000),
        OfferTtl = Settings.Duration(config, "Waitlist:OfferTtl", TimeSpan.FromHours(2), TimeSpan.FromSeconds(30), TimeSpan.FromDays(7)),
    };
}

public static class Holds
{
    // A hold `h` that still keeps its place: active, and its time not up (whether or not its expiry job has run); takes @now.
    public const string Keeps = "h.status = 'active' AND h.expires_at > @now";

    // Hold's columns of `holds h` and the row version, for Row; takes @now.
    public const string Columns = """
        h.id, h.kind,
        CASE WHEN h.status = 'active' AND h.expires_at <= @now THEN 'expired' ELSE h.status END AS status,
        h.offer, h.stage_id AS stage, h.date, h.start_time, h.end_time, h.training_id AS training,
        h.cassette_id AS cassette, h.quantity, h.table_id AS "table", h.starts_at,
        (extract(epoch FROM h.ends_at - h.starts_at) / 60)::int AS duration,
        h.expires_at, h.created_at, h.location, h.xmin::text::bigint AS version
        """;

    // The caller's hold @id (everyone else's is not there); takes @id, @user, @now.
    public const string Own = $"SELECT {Columns} FROM holds h WHERE h.id = @id AND h.user_id = @user";

    // Ends the caller's hold @id as @to, only while it is active and its time is not up (takes @id, @user, @now, @to, @IfMatch).
    public const string EndActive = $"""
        UPDATE holds h SET status = @to, ended_at = @now
        WHERE h.id = @id AND h.user_id = @user AND h.status = 'active' AND h.expires_at > @now AND {ETags.Guard}
        RETURNING {Columns}
        """;

    // Holds whose time is up stop holding at once, before anything that they stand in the way of is written: each of
    // these runs under the target's lock in the transaction of such a write. The triggers give the places back.
    public const string ExpireDueStageSlots = """
        UPDATE holds SET status = 'expired', ended_at = @now
        WHERE kind = 'stage_slot' AND stage_id = @stage AND date = @date AND status = 'active' AND expires_at <= @now
        """;

    public const string ExpireDueTrainingPlaces = """
        UPDATE holds SET status = 'expired', ended_at = @now
        WHERE kind = 'training_place' AND training_id = @training AND status = 'active' AND expires_at <= @now
        """;

    public const string ExpireDueCassettes = """
        UPDATE holds SET status = 'expired', ended_at = @now
        WHERE kind = 'cassette' AND cassette_id = ANY (@cassettes) AND status = 'active' AND expires_at <= @now
        """;

    public const string ExpireDueTables = """
        UPDATE holds SET status = 'expired', ended_at = @now
        WHERE kind = 'restaurant_table' AND table_id = @table AND status = 'active' AND expires_at <= @now
        """;

    // The first statement of every change of a hold's status that is not a write of its target (see db/0020).
    public const string LockTarget = "SELECT holds_lock_target(@id)";

    // The hold's expiry, as a durable job queued by the statement that writes the hold (a `WITH` whose `h` is the hold
    // as written, `RETURNING *, xmin`): made or extended, each time a job of its own for expires_at. The expiry is exact
    // without it (see ExpireDue*); the job only records it and lets the place pass on to a waitlist. A job whose hold was
    // extended past it, or has ended, finds nothing to do.
    public static string QueueExpiry(Jobs jobs) => jobs.InsertEach(ExpireHold.JobKind, "h", "jsonb_build_object('hold', h.id)", "h.expires_at");

    // The trigger takes the place, or the statement fails with the constraint that refused it. The user's other active
    // holds (offers not counted) are counted in the statement's snapshot, which does not hold the new row: the count a
    // create compares with Holds:MaxActivePerUser (InsertAsync's lockUser).
    private static string Insert(Jobs jobs) => $"""
        WITH h AS (
            INSERT INTO holds (user_id, kind, offer, stage_id, date, start_time, end_time, training_id, cassette_id, quantity,
                               table_id, starts_at, ends_at, expires_at, created_at)
            VALUES (@user, @Kind, @offer, @Stage, @Date, @StartTime, @EndTime, @Training, @Cassette, @Quantity,
                    @Table, @StartsAt, @EndsAt, @expiresAt, @now)
            RETURNING *, xmin
        ), expiry AS (
            {QueueExpiry(jobs)}
        )
        SELECT {Columns}, o.others, o.first_expiry
        FROM h, LATERAL (
            SELECT count(*) AS others, min(x.expires_at) AS first_expiry
            FROM holds x WHERE x.user_id = @user AND x.status = 'active' AND NOT x.offer AND x.expires_at > @now
        ) o
        """;

    // Holds the target for the user, and answers the hold with the user's other active holds and the first of their
    // expiries. With lockUser, the user's own lock is taken first, in the same round trip (a transaction-level advisory
    // lock, in a key space of the holds' own; no row is written for it): then parallel creates of one user take turns,
    // and each count sees the holds of those before it.
    public static async Task<(Hold Hold, long Others, DateTime? FirstExpiry)> InsertAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, Jobs jobs, HoldTarget t, long user, bool offer, DateTime expiresAt, DateTime now, bool lockUser, CancellationToken ct)
    {
        // Prepared: planning the statement cost ~240 µs a time (pg_stat_statements), a third of running it.
        var sql = lockUser ? $"SELECT pg_advisory_xact_lock(1752395890, (@user % 2147483647)::int);\n{Insert(jobs)}" : Insert(jobs);
        var row = (await conn.QueryPreparedAsync<CountedRow>(sql, leading: lockUser ? 1 : 0, tx, ct,
            new NpgsqlParameter<long>("user", user),
            new NpgsqlParameter<string>("Kind", t.Kind),
            new NpgsqlParameter<bool>("offer", offer),
            Nullable("Stage", NpgsqlDbType.Bigint, t.Stage),
            Nullable("Date", NpgsqlDbType.Date, t.Date),
            Nullable("StartTime", NpgsqlDbType.Time, t.StartTime),
            Nullable("EndTime", NpgsqlDbType.Time, t.EndTime),
            Nullable("Training", NpgsqlDbType.Bigint, t.Training),
            Nullable("Cassette", NpgsqlDbType.Bigint, t.Cassette),
            Nullable("Quantity", NpgsqlDbType.Integer, t.Quantity),
            Nullable("Table", NpgsqlDbType.Bigint, t.Table),
            Nullable("StartsAt", NpgsqlDbType.TimestampTz, t.StartsAt),
            Nullable("EndsAt", NpgsqlDbType.TimestampTz, t.EndsAt),
            new NpgsqlParameter<DateTime>("expiresAt", expiresAt),
            new NpgsqlParameter<DateTime>("now", now))).Single();
        return (row.Row.ToVersioned().Value, row.Others, row.FirstExpiry);
    }

    private static NpgsqlParameter Nullable(string name, NpgsqlDbType type, object? value) => new(name, type) { Value = value ?? DBNull.Value };

    public static Task ExpireDueAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string sql, object args, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(sql, args, tx, cancellationToken: ct));

    // Rows of Columns from any statement (SELECT, INSERT … RETURNING, UPDATE … RETURNING).
    public static async Task<IReadOnlyList<Versioned<Hold>>> QueryAsync(NpgsqlConnection conn, string sql, object args, CancellationToken ct, NpgsqlTransaction? tx = null) =>
        (await conn.QueryAsync<Row>(new CommandDefinition(sql, args, tx, cancellationToken: ct))).Select(r => r.ToVersioned()).ToList();

    public static async Task<Versioned<Hold>?> FindOwnAsync(NpgsqlConnection conn, long id, long user, DateTime now, CancellationToken ct, NpgsqlTransaction? tx = null) =>
        (await QueryAsync(conn, Own, new { id, user, now }, ct, tx)).SingleOrDefault();

    // Why a change of the caller's active hold (EndActive, an extension) changed nothing: it is not theirs (404), its
    // time is up, it has ended, or If-Match named another version.
    public static async Task<Failure> NotActiveAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long id, long user, DateTime now, CancellationToken ct) =>
        (await FindOwnAsync(conn, id, user, now, ct, tx))?.Value switch
        {
            null => Failure.NotFound("Hold"),
            { Status: HoldStatus.Expired } => Failure.Conflict("hold_expired", "The hold has expired; its place is no longer kept for you."),
            { Status: HoldStatus.Active } => Failure.PreconditionFailed(),
            var h => Failure.Conflict("hold_not_active", $"The hold is {h.Status}; only an active hold can change."),
        };

    private sealed record CountedRow(
        long Id, string Kind, string Status, bool Offer, long? Stage, DateOnly? Date, TimeOnly? StartTime, TimeOnly? EndTime, long? Training,
        long? Cassette, int? Quantity, long? Table, DateTime? StartsAt, int? Duration, DateTime ExpiresAt, DateTime CreatedAt, string? Location, long Version,
        long Others, DateTime? FirstExpiry)
    {
        public Row Row => new(Id, Kind, Status, Offer, Stage, Date, StartTime, EndTime, Training, Cassette, Quantity, Table, StartsAt, Duration, ExpiresAt, CreatedAt, Location, Version);
    }

    private sealed record Row(
        long Id, string Kind, string Status, bool Offer, long? Stage, DateOnly? Date, TimeOnly? StartTime, TimeOnly? EndTime, long? Training,
        long? Cassette, int? Quantity, long? Table, DateTime? StartsAt, int? Duration, DateTime ExpiresAt, DateTime CreatedAt, string? Location, long Version)
    {
        public Versioned<Hold> ToVersioned() => new(
            new Hold(Id, Kind, Status, Offer, Stage, Date, StartTime, EndTime, Training, Cassette, Quantity, Table, StartsAt, Duration, ExpiresAt, CreatedAt, Location),
            Version);
    }
}

using Dapper;
using Npgsql;
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

    // The trigger takes the place, or the statement fails with the constraint that refused it.
    private const string Insert = $"""
        INSERT INTO holds AS h (user_id, kind, offer, stage_id, date, start_time, end_time, training_id, cassette_id, quantity,
                                table_id, starts_at, ends_at, expires_at, created_at)
        VALUES (@user, @Kind, @offer, @Stage, @Date::date, @StartTime::time, @EndTime::time, @Training, @Cassette, @Quantity,
                @Table, @StartsAt, @EndsAt, @expiresAt, @now)
        RETURNING {Columns}
        """;

    public static async Task<Hold> InsertAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, HoldTarget t, long user, bool offer, DateTime expiresAt, DateTime now, CancellationToken ct) =>
        (await QueryAsync(conn, Insert, new
        {
            user, t.Kind, offer, t.Stage, t.Date, t.StartTime, t.EndTime, t.Training, t.Cassette, t.Quantity, t.Table, t.StartsAt, t.EndsAt, expiresAt, now,
        }, ct, tx)).Single().Value;

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

    // The hold's expiry, as a durable job: the expiry is exact without it (see ExpireDue*), the job only records it
    // and lets the place pass on to a waitlist. An extension queues another one; the earlier one then finds nothing due.
    public static Task ScheduleExpiryAsync(Jobs jobs, NpgsqlConnection conn, NpgsqlTransaction tx, long id, DateTime expiresAt, CancellationToken ct) =>
        jobs.EnqueueAsync(conn, tx, ExpireHold.JobKind, new ExpireHold.ExpireHoldJob(id), new DateTimeOffset(expiresAt, TimeSpan.Zero), ct);

    private sealed record Row(
        long Id, string Kind, string Status, bool Offer, long? Stage, DateOnly? Date, TimeOnly? StartTime, TimeOnly? EndTime, long? Training,
        long? Cassette, int? Quantity, long? Table, DateTime? StartsAt, int? Duration, DateTime ExpiresAt, DateTime CreatedAt, string? Location, long Version)
    {
        public Versioned<Hold> ToVersioned() => new(
            new Hold(Id, Kind, Status, Offer, Stage, Date, StartTime, EndTime, Training, Cassette, Quantity, Table, StartsAt, Duration, ExpiresAt, CreatedAt, Location),
            Version);
    }
}

using System.Globalization;
using Dapper;
using FluentValidation;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;
using HoldRows = Slices.Api.Features.Holds.Holds;

[assembly: PgConstraint(Slices.Api.Features.Stages.Bookings.NoOverlap, 409, "booking_conflict", "The stage is already booked for part of that time.")]
[assembly: PgConstraint("bookings_time_range", 400, "invalid_time_range", "start_time must be before finish_time.")]

namespace Slices.Api.Features.Stages;

// A booking as every booking route shows it; `user` is whoever made it. Shared by the booking slices.
public sealed record Booking(long Id, long User, long Stage, DateOnly Date, TimeOnly StartTime, TimeOnly FinishTime, bool Active);

// The body of POST and PUT, and what PATCH merges over. There is no `user`: the caller is the user.
public sealed record BookingChanges(long? Stage, DateOnly? Date, TimeOnly? StartTime, TimeOnly? FinishTime, bool? Active = null)
{
    public static BookingChanges From(Booking b) => new(b.Stage, b.Date, b.StartTime, b.FinishTime, b.Active);
}

// A create or replace of a booking: both carry the same members and obey the same rules.
public interface IBookingWrite
{
    BookingChanges Changes { get; }
}

// Included by the create and replace validators: the members must be there; the rules that need the stage or the clock are CheckAsync.
public sealed class BookingChangesRules : AbstractValidator<IBookingWrite>
{
    public BookingChangesRules()
    {
        RuleFor(x => x.Changes.Stage).NotNull().OverridePropertyName("stage");
        RuleFor(x => x.Changes.Date).NotNull().OverridePropertyName("date");
        RuleFor(x => x.Changes.StartTime).NotNull().OverridePropertyName("start_time");
        RuleFor(x => x.Changes.FinishTime).NotNull().OverridePropertyName("finish_time");
    }
}

public static class Bookings
{
    public const string NoOverlap = "bookings_no_overlap";

    // Booking columns plus `version`, for a SELECT or a RETURNING on `bookings b`.
    public const string Columns = """
        b.id, b.user_id AS "user", b.stage_id AS stage, b.date, b.start_time, b.finish_time, b.active, b.xmin::text::bigint AS version
        """;

    // Who may see a booking: its user, or an admin. Everyone else gets 404, as if it did not exist. A stage slot's hold
    // is a placeholder row among the bookings (db/0020): no booking route shows or changes it.
    public const string Visible = "(b.hold_id IS NULL AND (@admin OR b.user_id = @caller))";

    private const string ById = $"SELECT {Columns} FROM bookings b WHERE b.id = @id AND {Visible}";

    // The booking id if caller may see it.
    public static Task<Versioned<Booking>?> FindAsync(NpgsqlConnection conn, long id, Caller caller, CancellationToken ct, NpgsqlTransaction? tx = null) =>
        ReadAsync(conn, ById, new { id, admin = caller.IsAdmin, caller = caller.Id }, ct, tx);

    // FindAsync, and the row stays as read until tx ends (FOR NO KEY UPDATE): what a replace compares its changes with.
    public static Task<Versioned<Booking>?> LockAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long id, Caller caller, CancellationToken ct) =>
        ReadAsync(conn, $"{ById} FOR NO KEY UPDATE", new { id, admin = caller.IsAdmin, caller = caller.Id }, ct, tx);

    // One row of Columns from any statement (SELECT, INSERT … RETURNING, UPDATE … RETURNING).
    public static async Task<Versioned<Booking>?> ReadAsync(NpgsqlConnection conn, string sql, object args, CancellationToken ct, NpgsqlTransaction? tx = null)
    {
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(sql, args, tx, cancellationToken: ct));
        return row?.ToVersioned();
    }

    // ReadAsync's row, from an explicitly prepared statement after `leading` ones sent in the same round trip.
    public static async Task<Versioned<Booking>?> ReadPreparedAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, string sql, int leading, CancellationToken ct, params NpgsqlParameter[] parameters) =>
        (await conn.QueryPreparedAsync<Row>(sql, leading, tx, ct, parameters)).SingleOrDefault()?.ToVersioned();

    public static async Task<IReadOnlyList<Booking>> ListAsync(NpgsqlConnection conn, string whereAndOrder, object args, CancellationToken ct)
    {
        var rows = await conn.QueryAsync<Row>(new CommandDefinition($"SELECT {Columns} FROM bookings b {whereAndOrder}", args, cancellationToken: ct));
        return rows.Select(r => r.ToVersioned().Value).ToList();
    }

    // The rules a booking must meet, each with its own code: the time range, and a stage that exists. The rules about
    // when it happens bind a new booking (stored null) and a write that changes what they are about, so that a booking
    // keeping its stage and time can still be deactivated or reactivated once it has begun or once its stage's hours
    // were shortened: not in the past (the service's local clock) for a new date or time; inside the stage's opening
    // hours for a new date, time or stage. The stage row is locked (FOR NO KEY UPDATE) on every write
    // so that its hours cannot change and it cannot be deleted before this transaction commits, and so that writes of
    // bookings of one stage take turns: two transactions inserting conflicting rows at once can each wait for the
    // other in the exclusion constraint's check, and PostgreSQL then breaks the deadlock by killing one after a second
    // (the benchmark's booking race turned that into 500s; ConcurrencyTests counts deadlocks). In turn, every loser
    // meets the committed winner and gets 23P01. Overlap is still decided by the database. Under that lock, the holds of the
    // stage that day whose time is up let their slots go (db/0020), so that they stand in no one's way.
    public static async Task<Failure?> CheckAsync(NpgsqlConnection conn, NpgsqlTransaction tx, BookingChanges b, Booking? stored, TimeProvider clock, CancellationToken ct)
    {
        var (stage, date, start, finish) = (b.Stage!.Value, b.Date!.Value, b.StartTime!.Value, b.FinishTime!.Value);
        var now = clock.GetLocalNow().DateTime;
        if (start >= finish)
        {
            return Rule("invalid_time_range", "finish_time", "finish_time must be after start_time.");
        }

        // Reactivating is no move either: stage and time were checked when booked, and the overlap it can cause is the constraint's.
        var retimed = stored is null || (stored.Date, stored.StartTime, stored.FinishTime) != (date, start, finish);
        var moved = retimed || stored?.Stage != stage;
        if (retimed && date.ToDateTime(start) <= now)
        {
            return Rule("booking_in_past", "date", "A booking must start in the future.");
        }

        // One round trip: the lock and the hours, then the sweep. A rule broken below rolls the sweep back with the
        // rest of the transaction (no failure is committed); it would have been done by the next write anyway.
        // Prepared: the sweep's plan weighs the holds' partial indexes (~100 µs a time, pg_stat_statements).
        var hours = (await conn.QueryPreparedAsync<OpeningHours>(LockAndSweep, tx, ct,
            new NpgsqlParameter<long>("stage", stage), new NpgsqlParameter<DateOnly>("date", date), new NpgsqlParameter<DateTime>("now", clock.GetUtcNow().UtcDateTime))).SingleOrDefault();

        if (hours is null)
        {
            return Rule("unknown_stage", "stage", $"Stage {stage} does not exist.");
        }

        if (moved && (start < hours.OpenTime || finish > hours.CloseTime))
        {
            return Rule("outside_opening_hours", start < hours.OpenTime ? "start_time" : "finish_time",
                $"The stage is open from {Hhmm(hours.OpenTime)} to {Hhmm(hours.CloseTime)}.");
        }

        return null;
    }

    private const string LockAndSweep = $"""
        SELECT open_time, close_time FROM stages WHERE id = @stage FOR NO KEY UPDATE;
        {HoldRows.ExpireDueStageSlots}
        """;

    // The answer to a violated NoOverlap: a 409 naming the active booking that is in the way, found
    // after the fact (the database decided; this only explains). Another user's booking is named by id and time only.
    public static async Task<Failure> ConflictAsync(NpgsqlDataSource db, BookingChanges b, long exceptId, CancellationToken ct)
    {
        const string inTheWay = """
            SELECT b.id, b.start_time, b.finish_time
            FROM bookings b
            WHERE b.stage_id = @Stage AND b.active AND b.id <> @exceptId AND b.hold_id IS NULL
              AND tsrange(b.date + b.start_time, b.date + b.finish_time, '[)')
                  && tsrange(@Date::date + @StartTime::time, @Date::date + @FinishTime::time, '[)')
            ORDER BY b.start_time, b.id
            LIMIT 1
            """;
        await using var conn = await db.OpenConnectionAsync(ct);
        var other = await conn.QuerySingleOrDefaultAsync<Conflicting>(new CommandDefinition(
            inTheWay, new { b.Stage, b.Date, b.StartTime, b.FinishTime, exceptId }, cancellationToken: ct));
        return Failure.Conflict("booking_conflict", other is null
            ? "The stage is already booked for part of that time."
            : $"The stage is already booked from {Hhmm(other.StartTime)} to {Hhmm(other.FinishTime)} on {b.Date!.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)} (booking {other.Id}).");
    }

    private static string Hhmm(TimeOnly t) => t.ToString("HH:mm", CultureInfo.InvariantCulture);

    private static Failure Rule(string code, string field, string message) =>
        new(StatusCodes.Status400BadRequest, code, message, new Dictionary<string, string[]> { [field] = [message] });

    private sealed record OpeningHours(TimeOnly OpenTime, TimeOnly CloseTime);

    private sealed record Conflicting(long Id, TimeOnly StartTime, TimeOnly FinishTime);

    private sealed record Row(long Id, long User, long Stage, DateOnly Date, TimeOnly StartTime, TimeOnly FinishTime, bool Active, long Version)
    {
        public Versioned<Booking> ToVersioned() => new(new Booking(Id, User, Stage, Date, StartTime, FinishTime, Active), Version);
    }
}

using Dapper;
using Npgsql;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;
using HoldRows = Slices.Api.Features.Holds.Holds;

[assembly: PgConstraint("waitlist_entries_one_per_training", 409, "already_waiting", "You are in this training's waitlist already.")]
[assembly: PgConstraint("waitlist_entries_one_per_slot", 409, "already_waiting", "You are in this slot's waitlist already.")]

namespace Slices.Api.Features.Waitlists;

// A place in a training's line. `position` counts from 1 among the entries still in line (waiting, or holding a live
// offer); `hold` is the offer — a hold of the place, confirmed with POST /api/holds/{hold}/confirm — until it ends.
public sealed record TrainingWaitlistEntry(long Id, long Training, long User, string Status, int Position, DateTime CreatedAt, long? Hold, DateTime? OfferExpiresAt);

// A place in a stage slot's line; the line is the stage's on that date, whatever the slots.
public sealed record StageWaitlistEntry(
    long Id, long Stage, DateOnly Date, TimeOnly StartTime, TimeOnly EndTime, long User, string Status, int Position, DateTime CreatedAt, long? Hold,
    DateTime? OfferExpiresAt);

public static class Waitlist
{
    private const string Waiting = "SELECT EXISTS (SELECT 1 FROM waitlist_entries WHERE training_id = @training AND status = 'waiting')";

    // Still in line: waiting, or holding an offer whose time is not up (an offer past expires_at has lapsed for the
    // client, whether or not its expiry job has run yet). Takes @now; `w` is the entry, `h` its hold.
    public const string InLine = $"(w.status = 'waiting' OR (w.status = 'offered' AND {HoldRows.Keeps}))";

    // The line of training @training in order; @all: everyone's entries, otherwise the caller's (@caller) only.
    private const string TrainingLine = $"""
        SELECT * FROM (
            SELECT w.id, w.training_id AS training, w.user_id AS "user", w.status,
                   row_number() OVER (ORDER BY w.id)::int AS position, w.created_at, w.hold_id AS hold, h.expires_at AS offer_expires_at
            FROM waitlist_entries w LEFT JOIN holds h ON h.id = w.hold_id
            WHERE w.training_id = @training AND {InLine}) line
        WHERE @all OR line."user" = @caller
        ORDER BY line.id
        """;

    // The lines of stage @stage, one a date; @all and @caller as above, @entry: that entry only (null: every one).
    private const string StageLine = $"""
        SELECT * FROM (
            SELECT w.id, w.stage_id AS stage, w.date, w.start_time, w.end_time, w.user_id AS "user", w.status,
                   row_number() OVER (PARTITION BY w.date ORDER BY w.id)::int AS position, w.created_at, w.hold_id AS hold,
                   h.expires_at AS offer_expires_at
            FROM waitlist_entries w LEFT JOIN holds h ON h.id = w.hold_id
            WHERE w.stage_id = @stage AND {InLine}) line
        WHERE (@all OR line."user" = @caller) AND (@entry::bigint IS NULL OR line.id = @entry)
        ORDER BY line.date, line.id
        """;

    // Leaves the line: the caller's entry (@entry, or theirs in training @training) is `left`, and an offer it holds is
    // released — its trigger gives the place back and wakes the line, so the place passes to the next person. Run under
    // the target's lock (training or stage row, then the hold, as Holds.LockTarget orders them), after its due holds
    // went; false when the caller is not in that line.
    // One statement: the hold's trigger runs after it and finds the entry `left` already, not to be marked lapsed.
    private const string Leave = """
        WITH gone AS (
            UPDATE waitlist_entries SET status = 'left', updated_at = @now
            WHERE user_id = @caller AND status IN ('waiting', 'offered') AND (training_id = @training OR id = @entry)
            RETURNING hold_id
        ), released AS (
            UPDATE holds SET status = 'released', ended_at = @now WHERE id IN (SELECT hold_id FROM gone) AND status = 'active'
        )
        SELECT EXISTS (SELECT 1 FROM gone)
        """;

    // Whether an active booking or a live hold's placeholder stands in the way of the slot (@stage, @date, @start, @end).
    // Read under the stage's lock, which every write that takes a slot takes first (Bookings.CheckAsync), after the
    // stage's due holds that day let their slots go.
    public const string SlotTaken = """
        SELECT EXISTS (SELECT 1 FROM bookings b
                       WHERE b.stage_id = @stage AND b.date = @date AND b.active AND b.start_time < @end AND @start < b.finish_time)
        """;

    // Under the training's row lock, before a place is taken by anyone but the waitlist's offers: the training's due
    // holds let go, then no place while anyone waits for one — a freed place is theirs (OfferPlaces), first come first served.
    public static async Task<Failure?> RefuseWhileWaitingAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long training, DateTime now, CancellationToken ct)
    {
        var args = new { training, now };
        await HoldRows.ExpireDueAsync(conn, tx, HoldRows.ExpireDueTrainingPlaces, args, ct);
        return await conn.ExecuteScalarAsync<bool>(new CommandDefinition(Waiting, args, tx, cancellationToken: ct))
            ? PeopleWaiting
            : null;
    }

    // A place taken while people wait for one: theirs, first come first served (the enrolment says it too).
    public static Failure PeopleWaiting { get; } =
        Failure.Conflict("training_full", "People are waiting for a place in this training: join its waitlist (POST /api/trainings/{id}/waitlist).");

    public static async Task<List<TrainingWaitlistEntry>> TrainingLineAsync(
        NpgsqlConnection conn, long training, long caller, bool all, DateTime now, CancellationToken ct, NpgsqlTransaction? tx = null) =>
        (await conn.QueryAsync<TrainingWaitlistEntry>(new CommandDefinition(TrainingLine, new { training, caller, all, now }, tx, cancellationToken: ct))).ToList();

    public static async Task<List<StageWaitlistEntry>> StageLineAsync(
        NpgsqlConnection conn, long stage, long caller, bool all, long? entry, DateTime now, CancellationToken ct, NpgsqlTransaction? tx = null) =>
        (await conn.QueryAsync<StageWaitlistEntry>(new CommandDefinition(StageLine, new { stage, caller, all, entry, now }, tx, cancellationToken: ct))).ToList();

    // See Leave: the caller's place in training's line, or their entry.
    public static Task<bool> LeaveAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long caller, long? training, long? entry, DateTime now, CancellationToken ct) =>
        conn.ExecuteScalarAsync<bool>(new CommandDefinition(Leave, new { caller, training, entry, now }, tx, cancellationToken: ct));
}

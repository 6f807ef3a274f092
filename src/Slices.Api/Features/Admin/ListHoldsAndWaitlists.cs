using Dapper;
using FluentValidation;
using Mediator;
using Npgsql;
using Slices.Api.Features.Trainings;
using Slices.Api.Features.Waitlists;
using HoldRows = Slices.Api.Features.Holds.Holds;

namespace Slices.Api.Features.Admin;

// The panel's view of holds and waitlists (no API route: the holds page sends it). For each training, and each stage
// on a day, in the period with a place still held or someone still in line: its active holds and its line. A hold past
// expires_at keeps nothing (db/0020), so it is not shown even before its expiry job has run.
public static class ListHoldsAndWaitlists
{
    // Trainings, and stage days, shown at most; the total says how many more there are.
    public const int MaxShown = 50;

    public sealed record ListHoldsAndWaitlistsQuery(DateOnly? DateFrom, DateOnly? DateTo) : IQuery<HoldsAndWaitlists>, IPeriodQuery;

    public sealed record HoldsAndWaitlists(
        IReadOnlyList<TrainingHoldsAndLine> Trainings, long TrainingsTotal, IReadOnlyList<StageDayHoldsAndLine> StageDays, long StageDaysTotal);

    public sealed record TrainingHoldsAndLine(
        long Id, DateOnly Date, TimeOnly StartTime, TimeOnly EndTime, string GroupName, int? Capacity, int Enrolled,
        IReadOnlyList<ActiveHold> Holds, IReadOnlyList<LineEntry> Line);

    public sealed record StageDayHoldsAndLine(long Stage, string StageName, DateOnly Date, IReadOnlyList<ActiveHold> Holds, IReadOnlyList<LineEntry> Line);

    // Start and end times are a stage slot's.
    public sealed record ActiveHold(long Id, long User, string? Username, string Kind, TimeOnly? StartTime, TimeOnly? EndTime, DateTime ExpiresAt, bool Offer);

    // Position counts from 1 in id order, offered entries included; start and end times are a stage entry's wanted slot.
    public sealed record LineEntry(long Id, long Position, long User, string? Username, string Status, TimeOnly? StartTime, TimeOnly? EndTime, DateTime CreatedAt, long? Hold);

    public sealed class Validator : AbstractValidator<ListHoldsAndWaitlistsQuery>
    {
        public Validator() => this.PeriodRules();
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : IQueryHandler<ListHoldsAndWaitlistsQuery, HoldsAndWaitlists>
    {
        // Driven by the holds and lines (few) rather than by the trainings and bookings of the period (many).
        private const string Trainings = $"""
            SELECT t.id, t.date, t.start_time, t.end_time, g.name AS group_name, t.capacity, t.enrolled, count(*) OVER () AS total
            FROM trainings t JOIN groups g ON g.id = t.group_id
            WHERE t.id IN (SELECT h.training_id FROM holds h WHERE h.kind = 'training_place' AND {HoldRows.Keeps}
                           UNION SELECT w.training_id FROM waitlist_entries w LEFT JOIN holds h ON h.id = w.hold_id
                                 WHERE w.training_id IS NOT NULL AND {Waitlist.InLine})
              AND {Period.Sql}
            ORDER BY t.date, t.start_time, t.id
            LIMIT @limit
            """;

        private const string StageDays = $"""
            SELECT d.stage_id AS stage, s.name AS stage_name, d.date, count(*) OVER () AS total
            FROM (SELECT h.stage_id, h.date FROM holds h WHERE h.kind = 'stage_slot' AND {HoldRows.Keeps}
                  UNION SELECT w.stage_id, w.date FROM waitlist_entries w LEFT JOIN holds h ON h.id = w.hold_id
                        WHERE w.stage_id IS NOT NULL AND {Waitlist.InLine}) d
            JOIN stages s ON s.id = d.stage_id
            WHERE (@DateFrom::date IS NULL OR d.date >= @DateFrom) AND (@DateTo::date IS NULL OR d.date <= @DateTo)
            ORDER BY d.date, s.name, d.stage_id
            LIMIT @limit
            """;

        private static readonly string Holds = $"""
            SELECT h.training_id, h.stage_id, h.date, h.id, h.user_id AS "user", u.username, h.kind, h.start_time, h.end_time,
                   h.expires_at, h.offer
            FROM holds h JOIN users u ON u.id = h.user_id
            WHERE {Shown("h")} AND {HoldRows.Keeps}
            ORDER BY h.expires_at, h.id
            """;

        private static readonly string Line = $"""
            SELECT w.training_id, w.stage_id, w.date, w.id,
                   row_number() OVER (PARTITION BY w.training_id, w.stage_id, w.date ORDER BY w.id) AS position,
                   w.user_id AS "user", u.username, w.status, w.start_time, w.end_time, w.created_at, w.hold_id AS hold
            FROM waitlist_entries w JOIN users u ON u.id = w.user_id LEFT JOIN holds h ON h.id = w.hold_id
            WHERE {Shown("w")} AND {Waitlist.InLine}
            ORDER BY w.id
            """;

        public async ValueTask<HoldsAndWaitlists> Handle(ListHoldsAndWaitlistsQuery q, CancellationToken ct)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            await using var conn = await db.OpenConnectionAsync(ct);
            var period = new { q.DateFrom, q.DateTo, now, limit = MaxShown };
            var trainings = (await conn.QueryAsync<TrainingRow>(new CommandDefinition(Trainings, period, cancellationToken: ct))).ToList();
            var days = (await conn.QueryAsync<StageDayRow>(new CommandDefinition(StageDays, period, cancellationToken: ct))).ToList();
            var targets = new
            {
                trainings = trainings.Select(t => t.Id).ToArray(),
                stages = days.Select(d => d.Stage).ToArray(),
                dates = days.Select(d => d.Date).ToArray(),
                now,
            };
            var holds = (await conn.QueryAsync<HoldRow>(new CommandDefinition(Holds, targets, cancellationToken: ct))).ToList();
            var line = (await conn.QueryAsync<LineRow>(new CommandDefinition(Line, targets, cancellationToken: ct))).ToList();

            var holdsOf = holds.ToLookup(h => (h.TrainingId, h.StageId, h.Date), h => h.ToHold());
            var lineOf = line.ToLookup(e => (e.TrainingId, e.StageId, e.Date), e => e.ToEntry());
            return new HoldsAndWaitlists(
                trainings.Select(t => new TrainingHoldsAndLine(
                    t.Id, t.Date, t.StartTime, t.EndTime, t.GroupName, t.Capacity, t.Enrolled,
                    holdsOf[(t.Id, null, null)].ToList(), lineOf[(t.Id, null, null)].ToList())).ToList(),
                trainings.FirstOrDefault()?.Total ?? 0,
                days.Select(d => new StageDayHoldsAndLine(
                    d.Stage, d.StageName, d.Date,
                    holdsOf[(null, d.Stage, d.Date)].ToList(), lineOf[(null, d.Stage, d.Date)].ToList())).ToList(),
                days.FirstOrDefault()?.Total ?? 0);
        }
    }

    // Rows of `alias` (holds or waitlist entries) of the trainings (@trainings) and stage days (@stages and @dates, pairwise) shown.
    private static string Shown(string alias) =>
        $"({alias}.training_id = ANY (@trainings) OR ({alias}.stage_id, {alias}.date) IN (SELECT * FROM unnest(@stages, @dates)))";

    private sealed record TrainingRow(long Id, DateOnly Date, TimeOnly StartTime, TimeOnly EndTime, string GroupName, int? Capacity, int Enrolled, long Total);

    private sealed record StageDayRow(long Stage, string StageName, DateOnly Date, long Total);

    // Keyed by (training, null, null) for a training's rows and (null, stage, date) for a stage day's.
    private sealed record HoldRow(
        long? TrainingId, long? StageId, DateOnly? Date, long Id, long User, string? Username, string Kind, TimeOnly? StartTime, TimeOnly? EndTime,
        DateTime ExpiresAt, bool Offer)
    {
        public ActiveHold ToHold() => new(Id, User, Username, Kind, StartTime, EndTime, ExpiresAt, Offer);
    }

    private sealed record LineRow(
        long? TrainingId, long? StageId, DateOnly? Date, long Id, long Position, long User, string? Username, string Status, TimeOnly? StartTime, TimeOnly? EndTime,
        DateTime CreatedAt, long? Hold)
    {
        public LineEntry ToEntry() => new(Id, Position, User, Username, Status, StartTime, EndTime, CreatedAt, Hold);
    }
}

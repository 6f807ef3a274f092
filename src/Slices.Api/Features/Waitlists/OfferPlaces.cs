using System.Globalization;
using Dapper;
using Npgsql;
using Slices.Api.Common;
using Slices.Api.Common.Data;
using Slices.Api.Common.Work;
using Slices.Api.Features.Holds;
using HoldRows = Slices.Api.Features.Holds.Holds;

namespace Slices.Api.Features.Waitlists;

// Offers freed places to the people waiting for them, first come first served. Queued by db/0020's waitlist_wake in
// the transaction that frees a place (an enrolment given up, capacity raised, a hold ended, a booking cancelled,
// deactivated or moved), for a training or a stage's date. An offer is a hold of the place for the person
// (Waitlist:OfferTtl), with its expiry job and an email; all of it, and the entry becoming `offered`, commit together
// under the target's row lock, so parallel or repeated runs of a job never offer one place twice: each sees the
// places the one before it took. When an offer ends unconfirmed, the hold's trigger marks the entry `lapsed` and
// wakes the line again, so the place passes on.
public sealed class OfferPlaces(
    NpgsqlDataSource db, Jobs jobs, Outbox outbox, HoldSettings settings, AppSettings app, TimeProvider clock) : IJobHandler
{
    public const string JobKind = "waitlist.offer";

    // The training's row lock, as enrolments and holds take it; its due holds let their places go.
    private const string LockTraining = $"""
        SELECT id FROM trainings WHERE id = @training FOR NO KEY UPDATE;
        {HoldRows.ExpireDueTrainingPlaces};
        """;

    // null capacity: no limit.
    private const string Training = "SELECT date, start_time, end_time, capacity - enrolled - held AS free FROM trainings WHERE id = @training";

    // The first in line, with whether they can still take the place: a member of the training's group, still active.
    private const string NextInTraining = """
        SELECT w.id, w.user_id, u.email::text AS email, u.first_name,
               u.is_active AND EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = t.group_id AND gm.user_id = w.user_id) AS eligible,
               NULL::time AS start_time, NULL::time AS end_time
        FROM waitlist_entries w JOIN trainings t ON t.id = w.training_id JOIN users u ON u.id = w.user_id
        WHERE w.training_id = @training AND w.status = 'waiting'
        ORDER BY w.id
        LIMIT 1
        FOR UPDATE OF w
        """;

    // The stage's row lock, which every write that takes a slot takes first (Bookings.CheckAsync); its due holds that day let their slots go.
    private const string LockStage = $"""
        SELECT id FROM stages WHERE id = @stage FOR NO KEY UPDATE;
        {HoldRows.ExpireDueStageSlots};
        """;

    private const string Stage = "SELECT name, open_time, close_time FROM stages WHERE id = @stage";

    private const string StageLine = """
        SELECT w.id, w.user_id, u.email::text AS email, u.first_name, u.is_active AS eligible, w.start_time, w.end_time
        FROM waitlist_entries w JOIN users u ON u.id = w.user_id
        WHERE w.stage_id = @stage AND w.date = @date AND w.status = 'waiting'
        ORDER BY w.id
        FOR UPDATE OF w
        """;

    private const string Offered = "UPDATE waitlist_entries SET status = 'offered', hold_id = @hold, updated_at = @now WHERE id = @id";

    // Out of line for good: a user who left the training's group or was deactivated (`left`), a slot that has begun (`lapsed`).
    private const string Drop = "UPDATE waitlist_entries SET status = @status, updated_at = @now WHERE id = @id";

    public sealed record OfferPlacesJob(long? Training, long? Stage, DateOnly? Date);

    public string Kind => JobKind;

    public async Task RunAsync(Job job, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(job);
        var payload = job.PayloadAs<OfferPlacesJob>();
        var now = clock.GetUtcNow().UtcDateTime;
        await db.InTransactionAsync(async (conn, tx) =>
        {
            if (payload is { Training: { } training })
            {
                await OfferTrainingPlacesAsync(conn, tx, training, now, ct);
            }
            else if (payload is { Stage: { } stage, Date: { } date })
            {
                await OfferStageSlotsAsync(conn, tx, stage, date, now, ct);
            }
            else
            {
                throw new PermanentJobFailureException($"Job {job.Id} names neither a training nor a stage and date.");
            }

            return true;
        }, ct);
    }

    private async Task OfferTrainingPlacesAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long training, DateTime now, CancellationToken ct)
    {
        var args = new { training, now };
        await conn.ExecuteAsync(new CommandDefinition(LockTraining, args, tx, cancellationToken: ct));
        if (await conn.QuerySingleOrDefaultAsync<TrainingRow>(new CommandDefinition(Training, args, tx, cancellationToken: ct)) is not { } t)
        {
            return;
        }

        var target = new HoldTarget(HoldKind.TrainingPlace, null, null, null, null, training, null, null, null, null, null);
        var what = string.Create(CultureInfo.InvariantCulture, $"the training on {t.Date:yyyy-MM-dd}, {t.StartTime:HH:mm}–{t.EndTime:HH:mm}");
        for (var free = t.Free; free is null or > 0;)
        {
            if (await conn.QuerySingleOrDefaultAsync<InLine>(new CommandDefinition(NextInTraining, args, tx, cancellationToken: ct)) is not { } next)
            {
                return;
            }

            if (!next.Eligible)
            {
                await conn.ExecuteAsync(new CommandDefinition(Drop, new { next.Id, status = "left", now }, tx, cancellationToken: ct));
                continue;
            }

            await OfferAsync(conn, tx, next, target, what, now, ct);
            free--;
        }
    }

    private async Task OfferStageSlotsAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long stage, DateOnly date, DateTime now, CancellationToken ct)
    {
        await conn.ExecuteAsync(new CommandDefinition(LockStage, new { stage, date, now }, tx, cancellationToken: ct));
        if (await conn.QuerySingleOrDefaultAsync<StageRow>(new CommandDefinition(Stage, new { stage }, tx, cancellationToken: ct)) is not { } s)
        {
            return;
        }

        // A booking must start in the future by the service's local clock, as Bookings.CheckAsync has it.
        var localNow = clock.GetLocalNow().DateTime;
        foreach (var next in await conn.QueryAsync<InLine>(new CommandDefinition(StageLine, new { stage, date }, tx, cancellationToken: ct)))
        {
            var (start, end) = (next.StartTime!.Value, next.EndTime!.Value);
            if (!next.Eligible || date.ToDateTime(start) <= localNow)
            {
                await conn.ExecuteAsync(new CommandDefinition(Drop, new { next.Id, status = next.Eligible ? "lapsed" : "left", now }, tx, cancellationToken: ct));
                continue;
            }

            // Outside the stage's hours as they are now it cannot be booked; it waits in case they widen again.
            if (start < s.OpenTime || end > s.CloseTime
                || await conn.ExecuteScalarAsync<bool>(new CommandDefinition(Waitlist.SlotTaken, new { stage, date, start, end }, tx, cancellationToken: ct)))
            {
                continue;
            }

            var target = new HoldTarget(HoldKind.StageSlot, stage, date, start, end, null, null, null, null, null, null);
            var what = string.Create(CultureInfo.InvariantCulture, $"the stage {s.Name} on {date:yyyy-MM-dd}, {start:HH:mm}–{end:HH:mm}");
            await OfferAsync(conn, tx, next, target, what, now, ct);
        }
    }

    // The hold, in the place's constraint (a violation rolls the whole run back, and the job runs again), its expiry
    // job, the entry `offered`, and the email to a user who has an address.
    private async Task OfferAsync(NpgsqlConnection conn, NpgsqlTransaction tx, InLine next, HoldTarget target, string what, DateTime now, CancellationToken ct)
    {
        var (hold, _, _) = await HoldRows.InsertAsync(conn, tx, jobs, target, next.UserId, offer: true, now + settings.OfferTtl, now, lockUser: false, ct);
        await conn.ExecuteAsync(new CommandDefinition(Offered, new { next.Id, hold = hold.Id, now }, tx, cancellationToken: ct));
        if (next.Email is { } email)
        {
            await outbox.EmailAsync(conn, tx, OfferEmail(email, next.FirstName, hold, what), ct);
        }
    }

    private EmailMessage OfferEmail(string to, string name, Hold hold, string what)
    {
        var url = app.Link($"/api/holds/{hold.Id}");
        var until = hold.ExpiresAt.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        var greeting = name.Length > 0 ? $"Dear {name}," : "Hello,";
        var subject = $"A place is free for you: {what}";
        var text = $"""
            {greeting}

            a place you waited for is free: {what}. It is held for you until {until}.

            Your offer: {url}
            To accept it, confirm the offer (signed in): POST {url}/confirm
            If you do nothing, the offer passes to the next person in line when it expires.
            """;
        var html = Html.Document(subject, Html.Format($"""
            <p>{greeting}</p>
            <p>a place you waited for is free: {what}. It is held for you until {until}.</p>
            <p>Your offer: <a href="{url}">{url}</a></p>
            <p>To accept it, confirm the offer (signed in): <code>POST {url}/confirm</code></p>
            <p>If you do nothing, the offer passes to the next person in line when it expires.</p>
            """));
        return new EmailMessage(to, subject, text, html, name.Length > 0 ? name : null);
    }

    private sealed record TrainingRow(DateOnly Date, TimeOnly StartTime, TimeOnly EndTime, int? Free);

    private sealed record StageRow(string Name, TimeOnly OpenTime, TimeOnly CloseTime);

    private sealed record InLine(long Id, long UserId, string? Email, string FirstName, bool Eligible, TimeOnly? StartTime, TimeOnly? EndTime);
}

using Dapper;
using Npgsql;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;
using HoldRows = Slices.Api.Features.Holds.Holds;

[assembly: PgConstraint("restaurant_reservations_no_overlap", 409, "reservation_conflict", "The table has a confirmed reservation overlapping this one.")]

namespace Slices.Api.Features.Restaurant;

// A reservation as admins, the accounting system and the callback see it. Shared by the reservation slices.
public sealed record Reservation(
    long Id, string Status, long Table, DateTime StartsAt, DateTime EndsAt, int Guests, decimal? Price,
    string Name, string? Email, string? Phone, string? Comment, string? StatusComment, DateTime CreatedAt, DateTime UpdatedAt);

public static class ReservationStatus
{
    public const string Pending = "pending";
    public const string Confirmed = "confirmed";
    public const string Rejected = "rejected";
    public const string Cancelled = "cancelled";

    public static readonly string[] All = [Pending, Confirmed, Rejected, Cancelled];

    // The states a reservation may come from to reach to; cancelled and rejected are final.
    public static string[] From(string to) => to == Cancelled ? [Pending, Confirmed] : [Pending];
}

public static class Reservations
{
    // Reservation's columns of `restaurant_reservations r`, in its constructor's order.
    public const string Columns = """
        r.id, r.status, r.table_id AS "table", r.starts_at, r.ends_at, r.guests, r.price,
        r.name, r.email, r.phone, r.comment, r.status_comment, r.created_at, r.updated_at
        """;

    // A table's hold is a placeholder row with status 'held' (db/0020): no reservation route shows or changes it.
    public const string NotHeld = "r.status <> 'held'";

    public static async Task<Versioned<Reservation>?> FindAsync(NpgsqlConnection conn, long id, CancellationToken ct, NpgsqlTransaction? tx = null)
    {
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(
            $"SELECT {Columns}, r.xmin::text::bigint AS version FROM restaurant_reservations r WHERE r.id = @id AND {NotHeld}", new { id }, tx, cancellationToken: ct));
        return row?.ToVersioned();
    }

    private sealed record Row(
        long Id, string Status, long Table, DateTime StartsAt, DateTime EndsAt, int Guests, decimal? Price,
        string Name, string? Email, string? Phone, string? Comment, string? StatusComment, DateTime CreatedAt, DateTime UpdatedAt, long Version)
    {
        public Versioned<Reservation> ToVersioned() => new(
            new Reservation(Id, Status, Table, StartsAt, EndsAt, Guests, Price, Name, Email, Phone, Comment, StatusComment, CreatedAt, UpdatedAt), Version);
    }
}

// The outcome of a status change: the reservation as it is now, and whether this request changed it.
public sealed record StatusChange(Reservation Reservation, bool Changed);

// The one way a reservation's status changes — by the accounting system's callback, an admin, or a cancel link:
// a compare-and-swap on the status, and the customer's email and the accounting event written in the same
// transaction. Asking for the status it already has changes nothing and sends nothing (a repeated callback).
// Confirming one that overlaps a confirmed reservation of its table violates restaurant_reservations_no_overlap
// (409 reservation_conflict) and rolls everything back.
public sealed class ReservationTransitions(NpgsqlDataSource db, ReservationNotices notices, TimeProvider clock)
{
    // A cancellation is for a reservation still to come; confirming or rejecting is the accounting system's call at any time.
    private const string Change = $"""
        UPDATE restaurant_reservations r SET status = @to, status_comment = @comment, updated_at = @now
        WHERE r.id = @id AND r.status = ANY (@from) AND (@to <> 'cancelled' OR r.starts_at > @now)
        RETURNING {Reservations.Columns}
        """;

    public async Task<Result<StatusChange>> ApplyAsync(long id, string to, string? comment, CancellationToken ct) =>
        await db.InTransactionAsync<Result<StatusChange>>(async (conn, tx) =>
        {
            var args = new { id, to, comment, from = ReservationStatus.From(to), now = clock.GetUtcNow().UtcDateTime };
            if (to == ReservationStatus.Confirmed)
            {
                // Confirmations of one table take turns, as bookings of one stage do (Bookings.CheckAsync): two rows
                // entering an exclusion constraint at once can wait for each other until PostgreSQL kills one.
                // Under that lock, the table's holds whose time is up stop standing in the way (db/0020).
                if (await conn.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(
                    "SELECT t.id FROM restaurant_tables t WHERE t.id = (SELECT r.table_id FROM restaurant_reservations r WHERE r.id = @id) FOR NO KEY UPDATE OF t",
                    new { id }, tx, cancellationToken: ct)) is { } table)
                {
                    await HoldRows.ExpireDueAsync(conn, tx, HoldRows.ExpireDueTables, new { table, args.now }, ct);
                }
            }

            if (await conn.QuerySingleOrDefaultAsync<Reservation>(new CommandDefinition(Change, args, tx, cancellationToken: ct)) is { } changed)
            {
                await notices.SendAsync(conn, tx, changed, ct);
                return new StatusChange(changed, Changed: true);
            }

            var current = (await Reservations.FindAsync(conn, id, ct, tx))?.Value;
            return current switch
            {
                null => Failure.NotFound("Reservation"),
                _ when current.Status == to => new StatusChange(current, Changed: false),
                _ when args.from.Contains(current.Status) => Failure.Conflict("reservation_started", "The reservation has started; it can no longer be cancelled."),
                _ => Failure.Conflict("invalid_transition", $"The reservation is {current.Status}; it cannot become {to}."),
            };
        }, ct);
}

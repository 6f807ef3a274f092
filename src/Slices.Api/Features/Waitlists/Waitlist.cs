using Dapper;
using Npgsql;
using Slices.Api.Common.Http;
using HoldRows = Slices.Api.Features.Holds.Holds;

namespace Slices.Api.Features.Waitlists;

public static class Waitlist
{
    private const string Waiting = "SELECT EXISTS (SELECT 1 FROM waitlist_entries WHERE training_id = @training AND status = 'waiting')";

    // Under the training's row lock, before a place is taken by anyone but the waitlist's offers: the training's due
    // holds let go, then no place while anyone waits for one — a freed place is theirs (OfferPlaces), first come first served.
    public static async Task<Failure?> RefuseWhileWaitingAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long training, DateTime now, CancellationToken ct)
    {
        var args = new { training, now };
        await HoldRows.ExpireDueAsync(conn, tx, HoldRows.ExpireDueTrainingPlaces, args, ct);
        return await conn.ExecuteScalarAsync<bool>(new CommandDefinition(Waiting, args, tx, cancellationToken: ct))
            ? Failure.Conflict("training_full", "People are waiting for a place in this training: join its waitlist (POST /api/trainings/{id}/waitlist).")
            : null;
    }
}

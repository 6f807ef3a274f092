using Dapper;
using Npgsql;
using Slices.Api.Common.Data;
using Slices.Api.Common.Work;

namespace Slices.Api.Features.Holds;

// Records a hold's expiry once its time is up: the place is free for everyone from expires_at on anyway (the writes
// that it could stand in the way of expire it first), but a waitlist hears of the freed place only from this job, and
// the hold's row then says `expired`. Queued for expires_at when the hold is made or extended; a job whose hold was
// extended past it, or has ended, finds nothing to do. Durable: an instance killed meanwhile loses nothing.
public sealed class ExpireHold(NpgsqlDataSource db, TimeProvider clock) : IJobHandler
{
    public const string JobKind = "hold.expire";

    private const string Expire = $"""
        {Holds.LockTarget};
        UPDATE holds SET status = 'expired', ended_at = @now WHERE id = @id AND status = 'active' AND expires_at <= @now;
        """;

    public sealed record ExpireHoldJob(long Hold);

    public string Kind => JobKind;

    public async Task RunAsync(Job job, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(job);
        var payload = job.PayloadAs<ExpireHoldJob>();
        await db.InTransactionAsync(async (conn, tx) =>
            await conn.ExecuteAsync(new CommandDefinition(Expire, new { id = payload.Hold, now = clock.GetUtcNow().UtcDateTime }, tx, cancellationToken: ct)), ct);
    }
}

using Dapper;
using Mediator;
using Npgsql;
using HoldRows = Slices.Api.Features.Holds.Holds;

namespace Slices.Api.Features.Admin;

// For the trainings page (no API route): how many places of each training are held, and how many people wait for one,
// in one query for the whole week rather than one per training. Counted as the holds page shows them
// (ListHoldsAndWaitlists); someone holding an offer is counted among the held, not the waiting.
public static class CountHoldsAndWaiting
{
    public sealed record CountHoldsAndWaitingQuery(IReadOnlyList<long> Trainings) : IQuery<HoldsAndWaitingCounts>;

    public sealed record HoldsAndWaitingCounts(IReadOnlyDictionary<long, HeldAndWaiting> ByTraining);

    public sealed record HeldAndWaiting(long Held, long Waiting);

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : IQueryHandler<CountHoldsAndWaitingQuery, HoldsAndWaitingCounts>
    {
        // Each count reads a partial index (holds_active_training, waitlist_entries_training_line).
        private const string Counts = $"""
            SELECT t.id AS training,
                   (SELECT count(*) FROM holds h WHERE h.training_id = t.id AND {HoldRows.Keeps}) AS held,
                   (SELECT count(*) FROM waitlist_entries w WHERE w.training_id = t.id AND w.status = 'waiting') AS waiting
            FROM unnest(@trainings) AS t (id)
            """;

        public async ValueTask<HoldsAndWaitingCounts> Handle(CountHoldsAndWaitingQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var args = new { trainings = q.Trainings.Distinct().ToArray(), now = clock.GetUtcNow().UtcDateTime };
            var rows = await conn.QueryAsync<Row>(new CommandDefinition(Counts, args, cancellationToken: ct));
            return new HoldsAndWaitingCounts(rows.ToDictionary(r => r.Training, r => new HeldAndWaiting(r.Held, r.Waiting)));
        }
    }

    private sealed record Row(long Training, long Held, long Waiting);
}

using System.Globalization;
using Npgsql;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Stages;

// Stages as GET /api/stages/{id} answers them, kept in memory: the read every booking starts with then costs no
// database round trip, which was more than half of the service's CPU for it (tests/Slices.Benchmarks). PostgreSQL
// announces every change of a stage or of its services (`stage_changed`, db/0019) to every instance; the instance
// that writes also evicts at once after its commit, so its own next read is fresh, and another instance's within
// the milliseconds the notification takes. While the instance's LISTEN connection (Common/Data/PgListener) is down,
// nothing is cached.
public sealed class StageCache(NpgsqlDataSource db, TimeProvider clock) : IPgSubscriber
{
    private readonly NotifiedCache<long, Versioned<Stage>> stages = new("stage", clock, TimeSpan.FromMinutes(1), 10_000);

    // From memory, or read and kept.
    public Task<Versioned<Stage>?> FindAsync(long id, CancellationToken ct) => stages.GetOrLoadAsync(id, token => ReadAsync(id, token), ct);

    // From the database, whatever is in memory.
    public async Task<Versioned<Stage>?> ReadAsync(long id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await Stages.FindAsync(conn, id, ct);
    }

    public void Evict(long id) => stages.Evict(id);

    public IReadOnlyCollection<string> Channels { get; } = ["stage_changed"];

    public void OnNotification(NpgsqlNotificationEventArgs notification)
    {
        if (long.TryParse(notification.Payload, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
        {
            Evict(id);
        }
        else
        {
            stages.EvictAll();
        }
    }

    public void OnListening() => stages.Listening();

    public void OnLost() => stages.Forget();
}

public static class StagesSetup
{
    public static IServiceCollection AddStages(this IServiceCollection services)
    {
        services.AddSingleton<StageCache>();
        services.AddPgSubscriber<StageCache>();
        return services;
    }
}

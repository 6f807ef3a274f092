using System.Globalization;
using Npgsql;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Stages;

// Stages as GET /api/stages/{id} answers them, kept in memory: the read every booking starts with then costs no
// database round trip, which was more than half of the service's CPU for it (tests/Slices.Benchmarks). PostgreSQL
// announces every change of a stage or of its services (`stage_changed`, db/0019) to every instance; the instance
// that writes also evicts at once after its commit, so its own next read is fresh, and another instance's within
// the milliseconds the notification takes. While the listener is down nothing is cached.
public sealed class StageCache(NpgsqlDataSource db, TimeProvider clock, ILogger<StageCache> logger) : BackgroundService
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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await PgListener.RunAsync(
            db,
            "stage_changed",
            n =>
            {
                if (long.TryParse(n.Payload, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                {
                    Evict(id);
                }
                else
                {
                    stages.EvictAll();
                }
            },
            stages.Listening,
            e =>
            {
                logger.LogWarning(e, "Stage cache lost its LISTEN connection; reading every stage from the database until it is back");
                stages.Forget();
            },
            TimeSpan.FromSeconds(1),
            clock,
            stoppingToken);
        stages.Forget();
    }
}

public static class StagesSetup
{
    public static IServiceCollection AddStages(this IServiceCollection services)
    {
        services.AddSingleton<StageCache>();
        services.AddHostedService(sp => sp.GetRequiredService<StageCache>());
        return services;
    }
}

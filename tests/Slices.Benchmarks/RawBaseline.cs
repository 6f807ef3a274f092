using Dapper;
using Npgsql;
using Slices.Api.Common.Data;

namespace Slices.Benchmarks;

// The SQL behind GET /api/stages/{id}, served by a bare minimal-API endpoint in this process: no auth, no session
// check, no validation, no mediator, no problem details. It reads through the same prepared-statement helper and
// connection (unix socket) as the service, so what the slice pipeline costs is the difference.
public static class RawBaseline
{
    private const string Sql = """
        SELECT s.id, s.name, s.address, s.description, s.open_time, s.close_time,
               ARRAY(SELECT ss.service_id FROM stage_services ss WHERE ss.stage_id = s.id ORDER BY ss.service_id) AS services
        FROM stages s WHERE s.id = @id
        """;

    // Listens where the service does: loopback TCP, or a unix socket beside the service's (serviceSocket).
    public static async Task<(WebApplication App, Uri Address, string? UnixSocket)> StartAsync(string connectionString, int pool, string? serviceSocket)
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.SnakeCaseLower);
        var unixSocket = serviceSocket is null ? null : Path.Combine(Path.GetDirectoryName(serviceSocket)!, "raw.sock");
        var (address, urls) = BenchEnvironment.Listen(unixSocket);
        builder.WebHost.UseUrls(urls);
        var db = NpgsqlDataSource.Create($"{connectionString};Maximum Pool Size={pool}");
        var app = builder.Build();
        app.MapGet("/raw/stages/{id:long}", async (long id) =>
        {
            await using var conn = await db.OpenConnectionAsync();
            var row = (await conn.QueryPreparedAsync<StageRow>(Sql, null, CancellationToken.None, new NpgsqlParameter<long>("id", id))).SingleOrDefault();
            return row is null ? Results.NotFound() : Results.Ok(row);
        });
        await app.StartAsync();
        return (app, address, unixSocket);
    }

    private sealed class StageRow
    {
        public long Id { get; set; }

        public string Name { get; set; } = "";

        public string Address { get; set; } = "";

        public string Description { get; set; } = "";

        public TimeOnly OpenTime { get; set; }

        public TimeOnly CloseTime { get; set; }

        public long[] Services { get; set; } = [];
    }
}

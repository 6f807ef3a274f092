using Dapper;
using Npgsql;

using Slices.Api.Common;
using Slices.Api.Common.Observability;

namespace Slices.Api.Common.Data;

public static class Database
{
    // The connection string: `ConnectionStrings:Default` when set; otherwise, in Development, an embedded
    // PostgreSQL under `.data/postgres` (returned so the caller stops it on shutdown); anywhere else the
    // service refuses to start.
    public static async Task<(string ConnectionString, EmbeddedPostgres? Embedded)> ResolveAsync(WebApplicationBuilder builder, ILogger logger)
    {
        var configured = builder.Configuration.GetConnectionString("Default");
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return (configured, null);
        }

        if (!builder.Environment.IsDevelopment())
        {
            throw new StartupException("ConnectionStrings:Default is required outside Development (env ConnectionStrings__Default).");
        }

        var pg = await EmbeddedPostgres.StartAsync(Path.Combine(DataRoot(builder), "postgres"), "slices", logger, durable: true);
        return (pg.ConnectionString("slices"), pg);
    }

    // Where development state lives (database, signing key, mail, media): `.data` beside the content root.
    public static string DataRoot(WebApplicationBuilder builder) => DataRoot(builder.Configuration, builder.Environment);

    public static string DataRoot(IConfiguration config, IHostEnvironment env) =>
        config["Data:Root"] ?? Path.Combine(env.ContentRootPath, ".data");

    public static IServiceCollection AddSlicesDatabase(this IServiceCollection services, string connectionString)
    {
        // snake_case columns map onto PascalCase members without an alias in every query.
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        TypeHandlers.Register();
        var cs = Tuned(new NpgsqlConnectionStringBuilder(connectionString)).ConnectionString;
        services.AddSingleton(_ => new NpgsqlDataSourceBuilder(cs).WithSqlTracing().Build());
        services.AddHostedService<PgListener>();
        return services;
    }

    // The primary's and the read replicas' connection settings, where the connection string leaves them open; by key
    // (the builder writes its keys in their canonical form), so that `Command Timeout` leaves the connect timeout open.
    // connectTimeout: fail fast while the database is down instead of holding requests for Npgsql's 15 s.
    public static NpgsqlConnectionStringBuilder Tuned(NpgsqlConnectionStringBuilder csb, int connectTimeout = 5)
    {
        ArgumentNullException.ThrowIfNull(csb);
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = csb.ConnectionString };
        if (!given.ContainsKey("Timeout"))
        {
            csb.Timeout = connectTimeout;
        }

        // Measured in the benchmarks (README "Performance"): no DISCARD ALL round trip when a connection goes back
        // to the pool. Automatic preparation (Max Auto Prepare) is left off on purpose: with it, Npgsql 10.0.3 failed
        // with "unexpected backend message DataRow" after a statement had failed on the same connection (found by
        // the hostile-input sweep; npgsql/npgsql#6391, reproduced in PreparedStatementTests). Hot reads prepare
        // explicitly instead (Db.QueryPreparedAsync). Explicit settings win.
        if (!given.ContainsKey("No Reset On Close"))
        {
            csb.NoResetOnClose = true;
        }

        return csb;
    }
}

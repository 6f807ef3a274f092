using System.Net;
using Dapper;
using Npgsql;
using Slices.Api.Common.Data;
using Slices.Tests.Features.Stages;
using Slices.Tests.Infrastructure;

namespace Slices.Tests.Reliability;

// Hot reads (GET /api/stages/{id}) run as explicitly prepared statements that live on the physical connection.
// Npgsql's automatic preparation broke a connection after a statement had failed on it (README "Performance"), so
// the explicit kind is held to that: one pooled connection shared by every request, with statements failing inside
// PostgreSQL, in and out of transactions, between the prepared reads.
public sealed class PreparedStatementTests(SlicesFixture fx)
{
    [Fact]
    public async Task Prepared_reads_stay_correct_on_a_connection_where_statements_fail()
    {
        // One of the pool's two connections is the instance's LISTEN connection (Common/Data/PgListener).
        await using var host = await SlicesFixture.StartHostAsync($"{fx.Database.ConnectionString};Maximum Pool Size=2");
        using var api = new ApiClient(host.Server.CreateClient());
        var admin = await fx.AdminTokenAsync();
        var user = await api.SignUpAsync();
        var stage = await fx.NewStageIdAsync();
        var service = StageTestData.Unique("prepared");
        (await api.PostAsync("/api/services", new { name = service }, admin)).Is(HttpStatusCode.Created);
        var date = StageTestData.FutureDate();
        (await api.PostAsync("/api/bookings", new { stage, date, start_time = "10:00", finish_time = "11:00" }, user.Token)).Is(HttpStatusCode.Created);

        for (var i = 0; i < 20; i++)
        {
            var name = StageTestData.Unique($"prepared {i}");
            (await api.PatchAsync($"/api/stages/{stage}", new { name }, admin)).Is(HttpStatusCode.OK);
            Assert.Equal(name, (await api.GetAsync($"/api/stages/{stage}", user.Token)).Is(HttpStatusCode.OK).Body!["name"]!.GetValue<string>());

            // An exclusion violation inside the booking's transaction, and a unique violation: both fail in PostgreSQL.
            (await api.PostAsync("/api/bookings", new { stage, date, start_time = "10:30", finish_time = "11:30" }, user.Token))
                .IsProblem(HttpStatusCode.Conflict, "booking_conflict");
            (await api.PostAsync("/api/services", new { name = service }, admin)).IsProblem(HttpStatusCode.Conflict, "duplicate_name");
            Assert.Equal(name, (await api.GetAsync($"/api/stages/{stage}", user.Token)).Is(HttpStatusCode.OK).Body!["name"]!.GetValue<string>());
            (await api.GetAsync($"/api/stages/{long.MaxValue - i}", user.Token)).IsProblem(HttpStatusCode.NotFound, "not_found");
        }
    }

    // The failure of Npgsql's automatic preparation (npgsql/npgsql#6391): a prepared INSERT fails inside a
    // transaction, the transaction rolls back, and the next use of that statement on the connection goes wrong.
    // Written with Dapper on `Max Auto Prepare=10;Auto Prepare Min Usages=1`, this test fails with "Received
    // unexpected backend message DataRow" (checked with Npgsql 10.0.3); the explicit kind passes it.
    [Fact]
    public async Task A_prepared_statement_that_failed_in_a_rolled_back_transaction_works_next_time()
    {
        var ct = TestContext.Current.CancellationToken;
        var table = $"prepared_probe_{Guid.NewGuid():N}";
        await using var db = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(fx.Database.ConnectionString) { MaxPoolSize = 1 }.ConnectionString);
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            await conn.ExecuteAsync($"CREATE TABLE {table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, value varchar(5) NOT NULL)");
        }

        try
        {
            for (var i = 0; i < 5; i++)
            {
                await using (var conn = await db.OpenConnectionAsync(ct))
                {
                    await using var tx = await conn.BeginTransactionAsync(ct);
                    var e = await Assert.ThrowsAsync<PostgresException>(() => InsertAsync(conn, tx, "too long to fit"));
                    Assert.Equal(PostgresErrorCodes.StringDataRightTruncation, e.SqlState);
                    await tx.RollbackAsync(ct);
                }

                await using (var conn = await db.OpenConnectionAsync(ct))
                {
                    Assert.True(await InsertAsync(conn, null, "fits") > 0);
                }
            }
        }
        finally
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            await conn.ExecuteAsync($"DROP TABLE {table}");
        }

        async Task<long> InsertAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string value) =>
            (await conn.QueryPreparedAsync<long>($"INSERT INTO {table} (value) VALUES (@value) RETURNING id", tx, ct, new NpgsqlParameter<string>("value", value))).Single();
    }
}

using System.Globalization;
using System.Net;
using Npgsql;
using Slices.Tests.Infrastructure;
using static Slices.Tests.Features.Stages.StageTestData;

namespace Slices.Tests.Features.Stages;

public sealed class DeactivateBookingsTests(SlicesFixture fx)
{
    [Fact]
    public async Task Admin_deactivates_the_active_bookings_of_one_stage_and_counts_them()
    {
        var admin = await fx.AdminTokenAsync();
        var user = await fx.NewUserAsync();
        var (stage, elsewhere) = (await fx.NewStageIdAsync(), await fx.NewStageIdAsync());
        var date = FutureDate();
        var mine = new[]
        {
            (await fx.BookAsync(user.Token, stage, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id,
            (await fx.BookAsync(user.Token, stage, date, "12:00", "13:00")).Is(HttpStatusCode.Created).Id,
        };
        (await fx.BookAsync(user.Token, stage, date, "14:00", "15:00", active: false)).Is(HttpStatusCode.Created);
        var untouched = (await fx.BookAsync(user.Token, elsewhere, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id;

        var reply = (await fx.Api.PatchAsync("/api/deactivate-bookings", new { stage }, admin)).Is(HttpStatusCode.OK);
        Assert.Equal(2, reply.Body!["deactivated"]!.GetValue<int>());

        Assert.Empty((await fx.Api.GetAsync($"/api/bookings?stage={stage}&active=true", user.Token)).Array);
        Assert.Equal(mine.Order(), (await fx.Api.GetAsync($"/api/bookings?stage={stage}&active=false", user.Token)).Ids().Where(mine.Contains).Order());
        Assert.True((await fx.Api.GetAsync($"/api/bookings/{untouched}", user.Token)).Body!["active"]!.GetValue<bool>());
        Assert.Equal(0, (await fx.Api.PatchAsync("/api/deactivate-bookings", new { stage }, admin)).Body!["deactivated"]!.GetValue<int>());

        // Their slots are free again.
        (await fx.BookAsync(user.Token, stage, date, "10:00", "11:00")).Is(HttpStatusCode.Created);
    }

    [Fact]
    public async Task Date_to_limits_deactivation_to_bookings_on_or_before_it()
    {
        var admin = await fx.AdminTokenAsync();
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var d = DateOnly.Parse(FutureDate(), CultureInfo.InvariantCulture);
        string Day(int offset) => d.AddDays(offset).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var onTheDay = (await fx.BookAsync(user.Token, stage, Day(0), "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        var before = (await fx.BookAsync(user.Token, stage, Day(-1), "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        var after = (await fx.BookAsync(user.Token, stage, Day(1), "10:00", "11:00")).Is(HttpStatusCode.Created).Id;

        var reply = (await fx.Api.PatchAsync("/api/deactivate-bookings", new { stage, date_to = Day(0) }, admin)).Is(HttpStatusCode.OK);
        Assert.Equal(2, reply.Body!["deactivated"]!.GetValue<int>());
        Assert.Equal([after], (await fx.Api.GetAsync($"/api/bookings?stage={stage}&active=true", user.Token)).Ids());
        Assert.Equal([before, onTheDay], (await fx.Api.GetAsync($"/api/bookings?stage={stage}&active=false", user.Token)).Ids());
    }

    // The deactivation's UPDATE locks bookings one by one, so it can deadlock with a booking write that holds one of
    // them and waits for another (an update moving onto a slot the deactivation is freeing waits in the exclusion
    // check). PostgreSQL then aborts one of the two, and the deactivation must be run again, not answered with a 500.
    // Here the test's own transaction is that writer, so the deadlock happens every time, and the deactivation is its
    // victim: the writer's own deadlock check waits 30 s instead of the server's 1 s (deadlock_timeout), so the
    // deactivation's check is always the one that finds the cycle. (Relying on the deactivation having begun to wait
    // first failed about one run in ten on a busy machine: the two checks were due within milliseconds of each other.)
    [Fact]
    public async Task A_deactivation_that_PostgreSQL_aborts_in_a_deadlock_is_run_again()
    {
        var ct = TestContext.Current.CancellationToken;
        var admin = await fx.AdminTokenAsync();
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var date = FutureDate();
        long[] ids =
        [
            (await fx.BookAsync(user.Token, stage, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id,
            (await fx.BookAsync(user.Token, stage, date, "12:00", "13:00")).Is(HttpStatusCode.Created).Id,
        ];

        await using var writer = new NpgsqlConnection(fx.Database.ConnectionString);
        await writer.OpenAsync(ct);
        await using var tx = await writer.BeginTransactionAsync(ct);
        await using (var patient = new NpgsqlCommand("SET LOCAL deadlock_timeout = '30s'", writer, tx))
        {
            await patient.ExecuteNonQueryAsync(ct);
        }

        async Task<long> LockAsync(string sql, long arg)
        {
            await using var cmd = new NpgsqlCommand(sql, writer, tx) { Parameters = { new() { Value = arg } } };
            return (long)(await cmd.ExecuteScalarAsync(ct))!;
        }

        // The deactivation visits one day's bookings of a stage in physical order (a table scan, or the (stage_id, date)
        // index, whose ties go by ctid): the writer takes the last, and the probe checks that the deactivation holds the other.
        var last = await LockAsync("SELECT id FROM bookings WHERE stage_id = $1 ORDER BY ctid DESC LIMIT 1 FOR UPDATE", stage);
        var first = ids.Single(id => id != last);
        await using var probe = new NpgsqlConnection(fx.Database.ConnectionString);
        await probe.OpenAsync(ct);
        await using var held = new NpgsqlCommand("SELECT id FROM bookings WHERE id = $1 FOR UPDATE NOWAIT", probe) { Parameters = { new() { Value = first } } };

        var deactivation = fx.Api.PatchAsync("/api/deactivate-bookings", new { stage }, admin);
        await fx.UntilBlockedByAsync(writer.ProcessID, deactivation);
        Assert.Equal(PostgresErrorCodes.LockNotAvailable, (await Assert.ThrowsAsync<PostgresException>(() => held.ExecuteScalarAsync(ct))).SqlState);

        // Waiting for the row the deactivation holds closes the cycle; the lock is granted once the deactivation is aborted.
        Assert.Equal(first, await LockAsync("SELECT id FROM bookings WHERE id = $1 FOR UPDATE", first));
        await tx.RollbackAsync(ct);

        Assert.Equal(2, (await deactivation).Is(HttpStatusCode.OK).Body!["deactivated"]!.GetValue<int>());
        Assert.Empty((await fx.Api.GetAsync($"/api/bookings?stage={stage}&active=true", user.Token)).Array);
    }

    [Fact]
    public async Task Only_an_admin_may_deactivate_bookings()
    {
        var user = await fx.NewUserAsync();
        var stage = await fx.NewStageIdAsync();
        var id = (await fx.BookAsync(user.Token, stage, FutureDate(), "10:00", "11:00")).Is(HttpStatusCode.Created).Id;

        (await fx.Api.PatchAsync("/api/deactivate-bookings", new { stage }, user.Token)).IsProblem(HttpStatusCode.Forbidden, "forbidden");
        (await fx.Api.PatchAsync("/api/deactivate-bookings", new { stage })).IsProblem(HttpStatusCode.Unauthorized, "not_authenticated");
        Assert.True((await fx.Api.GetAsync($"/api/bookings/{id}", user.Token)).Body!["active"]!.GetValue<bool>());
    }
}

// Deactivating every booking would pull the slots from under the other booking tests, so this runs alone,
// after the parallel tests (DisableParallelization).
[CollectionDefinition(nameof(DeactivatesEveryBooking), DisableParallelization = true)]
public sealed class DeactivatesEveryBooking;

[Collection(nameof(DeactivatesEveryBooking))]
public sealed class DeactivateAllBookingsTests(SlicesFixture fx)
{
    [Fact]
    public async Task Without_a_body_every_active_booking_is_deactivated()
    {
        var user = await fx.NewUserAsync();
        var (one, two) = (await fx.NewStageIdAsync(), await fx.NewStageIdAsync());
        var date = FutureDate();
        var mine = new[]
        {
            (await fx.BookAsync(user.Token, one, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id,
            (await fx.BookAsync(user.Token, two, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id,
        };

        var reply = (await fx.Api.PatchAsync("/api/deactivate-bookings", null, await fx.AdminTokenAsync())).Is(HttpStatusCode.OK);

        Assert.True(reply.Body!["deactivated"]!.GetValue<int>() >= mine.Length);
        foreach (var id in mine)
        {
            Assert.False((await fx.Api.GetAsync($"/api/bookings/{id}", user.Token)).Body!["active"]!.GetValue<bool>());
        }
    }
}

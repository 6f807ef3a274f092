using System.Net;
using Microsoft.Extensions.Time.Testing;
using Slices.Tests.Features.Restaurant;
using Slices.Tests.Features.Stages;
using Slices.Tests.Infrastructure;
using Slices.Tests.Work;

namespace Slices.Tests.Features.Holds;

// Expiry on a clock the test drives (TimeProvider), each test on an instance and database of its own.
public sealed class HoldExpiryTests(SlicesFixture fx)
{
    private static readonly Dictionary<string, string?> NoWorkers = new() { ["Work:Concurrency"] = "0" };

    [Fact]
    public async Task A_hold_past_expires_at_blocks_no_one_though_no_job_has_run()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await WorkHost.StartAsync(fx, settings: NoWorkers, clock: clock);
        var admin = (await host.Api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;
        var alice = await host.Api.SignUpAsync();
        var bob = await host.Api.SignUpAsync();
        var date = StageTestData.FutureDate();
        var stage = (await host.Api.PostAsync("/api/stages", new { name = "Stage A", open_time = "09:00", close_time = "22:00", services = Array.Empty<long>() }, admin))
            .Is(HttpStatusCode.Created).Id;
        var cassette = (await host.Api.PostAsync("/api/cassettes", new { title = "Tape", director = "Someone", released = "1985-01-01", quantity = 1 }, admin))
            .Is(HttpStatusCode.Created).Id;
        var group = (await host.Api.PostAsync("/api/groups", new { name = "Group", description = "" }, admin)).Is(HttpStatusCode.Created).Id;
        foreach (var u in new[] { alice, bob })
        {
            (await host.Api.PostAsync($"/api/groups/{group}/users", new { user = u.Id }, admin)).Is(HttpStatusCode.Created);
        }

        var training = (await host.Api.PostAsync("/api/trainings", new { date = "2031-10-01", start_time = "18:00", end_time = "19:00", price = 5, group, capacity = 1 }, admin))
            .Is(HttpStatusCode.Created).Id;
        var table = await host.Api.NewTableIdAsync(admin);
        var at = RestaurantTestData.Future();
        var pending = await host.Api.RequestIdAsync(table, at);

        var holds = new[]
        {
            await host.Api.HoldIdAsync(alice.Token, HoldTestData.StageSlot(stage, date, ttl: 30)),
            await host.Api.HoldIdAsync(alice.Token, HoldTestData.Cassette(cassette, 1, ttl: 30)),
            await host.Api.HoldIdAsync(alice.Token, HoldTestData.TrainingPlace(training, ttl: 30)),
            await host.Api.HoldIdAsync(alice.Token, HoldTestData.Table(table, at, ttl: 30)),
        };
        (await host.Api.PostAsync("/api/bookings", new { stage, date, start_time = "10:00", finish_time = "11:00" }, bob.Token)).IsProblem(HttpStatusCode.Conflict, "booking_conflict");
        (await host.Api.PostAsync("/api/orders", Orders.Shop.Items((cassette, 1)), bob.Token)).IsProblem(HttpStatusCode.Conflict, "out_of_stock");
        (await host.Api.PostAsync($"/api/trainings/{training}/enroll", null, bob.Token)).IsProblem(HttpStatusCode.Conflict, "training_full");
        (await host.Api.ConfirmAsync(pending, admin)).IsProblem(HttpStatusCode.Conflict, "reservation_conflict");

        clock.Advance(TimeSpan.FromSeconds(30));

        foreach (var hold in holds)
        {
            Assert.Equal("expired", (await host.Api.GetAsync($"/api/holds/{hold}", alice.Token)).Is(HttpStatusCode.OK).Status());
        }

        Assert.Equal(4, (await host.Api.GetAsync("/api/holds?status=expired", alice.Token)).Is(HttpStatusCode.OK).Array.Count);
        (await host.Api.PostAsync("/api/bookings", new { stage, date, start_time = "10:00", finish_time = "11:00" }, bob.Token)).Is(HttpStatusCode.Created);
        (await host.Api.PostAsync("/api/orders", Orders.Shop.Items((cassette, 1)), bob.Token)).Is(HttpStatusCode.Created);
        (await host.Api.PostAsync($"/api/trainings/{training}/enroll", null, bob.Token)).Is(HttpStatusCode.OK);
        (await host.Api.ConfirmAsync(pending, admin)).Is(HttpStatusCode.OK);
        foreach (var hold in holds)
        {
            (await host.Api.ConfirmHoldAsync(alice.Token, hold)).IsProblem(HttpStatusCode.Conflict, "hold_expired");
            (await host.Api.PostAsync($"/api/holds/{hold}/extend", new { ttl_seconds = 60 }, alice.Token)).IsProblem(HttpStatusCode.Conflict, "hold_expired");
        }

        // The writes that met them recorded the expiry; no job ran.
        Assert.Equal(4L, await host.ScalarAsync<long>("SELECT count(*) FROM holds WHERE status = 'expired'"));
        Assert.Equal(0L, await host.ScalarAsync<long>("SELECT count(*) FROM jobs WHERE kind = 'hold.expire' AND state <> 'pending'"));
    }

    [Fact]
    public async Task The_expiry_job_records_the_expiry_and_gives_the_place_back()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await WorkHost.StartAsync(fx, clock: clock);
        var admin = (await host.Api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;
        var alice = await host.Api.SignUpAsync();
        var cassette = (await host.Api.PostAsync("/api/cassettes", new { title = "Tape", director = "Someone", released = "1985-01-01", quantity = 3 }, admin))
            .Is(HttpStatusCode.Created).Id;
        var hold = await host.Api.HoldIdAsync(alice.Token, HoldTestData.Cassette(cassette, 2, ttl: 60));
        // Extended: the first expiry job finds it not due and leaves it; the second one ends it.
        (await host.Api.PostAsync($"/api/holds/{hold}/extend", new { ttl_seconds = 120 }, alice.Token)).Is(HttpStatusCode.OK);

        clock.Advance(TimeSpan.FromSeconds(61));
        var first = await host.ScalarAsync<long>("SELECT min(id) FROM jobs WHERE kind = 'hold.expire'");
        await host.WaitForJobAsync(first, j => j.State == "succeeded");
        Assert.Equal("active", await host.ScalarAsync<string>("SELECT status FROM holds WHERE id = @hold", new { hold }));
        Assert.Equal(1, await host.ScalarAsync<int>("SELECT quantity FROM cassettes WHERE id = @cassette", new { cassette }));

        clock.Advance(TimeSpan.FromSeconds(60));
        var second = await host.ScalarAsync<long>("SELECT max(id) FROM jobs WHERE kind = 'hold.expire'");
        await host.WaitForJobAsync(second, j => j.State == "succeeded");
        Assert.Equal("expired", await host.ScalarAsync<string>("SELECT status FROM holds WHERE id = @hold", new { hold }));
        Assert.Equal(3, await host.ScalarAsync<int>("SELECT quantity FROM cassettes WHERE id = @cassette", new { cassette }));
    }

    [Fact]
    public async Task A_confirm_racing_its_holds_expiry_and_someone_elses_new_hold_never_gives_the_place_twice()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await WorkHost.StartAsync(fx, settings: NoWorkers, clock: clock);
        var admin = (await host.Api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;
        var alice = await host.Api.SignUpAsync();
        var bob = await host.Api.SignUpAsync();
        for (var round = 0; round < 18; round++)
        {
            var cassette = (await host.Api.PostAsync("/api/cassettes", new { title = $"Tape {round}", director = "Someone", released = "1985-01-01", quantity = 1 }, admin))
                .Is(HttpStatusCode.Created).Id;
            var hold = (await host.Api.HoldAsync(alice.Token, HoldTestData.Cassette(cassette, 1, ttl: 30))).Is(HttpStatusCode.Created);
            var expiresAt = hold.Member("expires_at").GetValue<DateTimeOffset>();

            // Rounds of three kinds: both requests a tick before the expiry (the confirm must win), both at it (the new
            // hold must win), and the clock passing it while both are in flight.
            var mode = round % 3;
            clock.SetUtcNow(mode == 1 ? expiresAt : expiresAt.AddTicks(-1));
            var confirm = Task.Run(() => host.Api.ConfirmHoldAsync(alice.Token, hold.Id));
            var other = Task.Run(() => host.Api.HoldAsync(bob.Token, HoldTestData.Cassette(cassette, 1, ttl: 30)));
            if (mode == 2)
            {
                await Task.Delay(round % 4, TestContext.Current.CancellationToken);
                clock.Advance(TimeSpan.FromTicks(1));
            }

            var (confirmed, held) = (await confirm, await other);
            var winners = (confirmed.Status == HttpStatusCode.Created ? 1 : 0) + (held.Status == HttpStatusCode.Created ? 1 : 0);
            Assert.True(winners == 1 || (mode == 2 && winners == 0), $"round {round}: {confirmed.Status} / {held.Status}");
            // The one place is sold or held once, or still there for the next buyer.
            var order = await host.Api.PostAsync("/api/orders", Orders.Shop.Items((cassette, 1)), bob.Token);
            Assert.Equal(winners == 1 ? HttpStatusCode.Conflict : HttpStatusCode.Created, order.Status);
            if (mode == 0)
            {
                confirmed.Is(HttpStatusCode.Created);
                held.IsProblem(HttpStatusCode.Conflict, "out_of_stock");
            }
            else if (mode == 1)
            {
                confirmed.IsProblem(HttpStatusCode.Conflict, "hold_expired");
                held.Is(HttpStatusCode.Created);
            }
            else if (winners == 0)
            {
                // The new hold came first, while the hold still held; the confirm came after it had expired. The place is free.
                confirmed.IsProblem(HttpStatusCode.Conflict, "hold_expired");
                held.IsProblem(HttpStatusCode.Conflict, "out_of_stock");
            }

            if (held.Status == HttpStatusCode.Created)
            {
                (await host.Api.DeleteAsync($"/api/holds/{held.Id}", bob.Token)).Is(HttpStatusCode.NoContent);
            }
        }
    }
}

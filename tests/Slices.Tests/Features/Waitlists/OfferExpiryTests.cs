using System.Net;
using Microsoft.Extensions.Time.Testing;
using Slices.Tests.Infrastructure;
using Slices.Tests.Work;

namespace Slices.Tests.Features.Waitlists;

// An offer left alone passes to the next in line when it expires: the service's clock is driven by the test.
public sealed class OfferExpiryTests(SlicesFixture fx)
{
    [Fact]
    public async Task An_offer_nobody_confirms_passes_to_the_next_in_line_when_it_expires()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await WorkHost.StartAsync(fx, clock: clock);
        var s = await Service.OfAsync(host);
        var (alice, bob, carol) = (await s.NewUserAsync(), await s.NewUserAsync(), await s.NewUserAsync());
        var training = await s.NewTrainingAsync(1, alice, bob, carol);
        await s.EnrolAsync(training, alice);
        var bobs = (await s.JoinAsync(training, bob)).Is(HttpStatusCode.Created).Id;
        var carols = (await s.JoinAsync(training, carol)).Is(HttpStatusCode.Created).Id;

        (await s.Api.DeleteAsync($"/api/trainings/{training}/enroll", alice.Token)).Is(HttpStatusCode.NoContent);
        // The database stamps the offer job with its own now(): the fake clock keeps up with real time until it runs.
        var bobsOffer = await UntilAsync(s, clock, bobs, "offered");
        var expires = (await s.Api.GetAsync($"/api/holds/{bobsOffer}", bob.Token)).Is(HttpStatusCode.OK).Body!["expires_at"]!.GetValue<DateTime>();
        Assert.InRange(expires - clock.GetUtcNow().UtcDateTime, TimeSpan.FromMinutes(119.5), TimeSpan.FromHours(2));

        clock.Advance(TimeSpan.FromMinutes(119));
        Assert.Equal("offered", (await s.EntryAsync(bobs)).Status);
        clock.Advance(TimeSpan.FromMinutes(2));
        var carolsOffer = await UntilAsync(s, clock, carols, "offered");

        Assert.Equal("lapsed", (await s.EntryAsync(bobs)).Status);
        Assert.Equal("expired", (await s.Api.GetAsync($"/api/holds/{bobsOffer}", bob.Token)).Is(HttpStatusCode.OK).Body!["status"]!.GetValue<string>());
        (await s.Api.PostAsync($"/api/holds/{bobsOffer}/confirm", null, bob.Token)).IsProblem(HttpStatusCode.Conflict, "hold_expired");
        (await s.Api.PostAsync($"/api/holds/{carolsOffer}/confirm", null, carol.Token)).Is(HttpStatusCode.Created);
        Assert.Equal(1, await s.ScalarAsync<int>("SELECT enrolled + held FROM trainings WHERE id = @training", new { training }));
    }

    [Fact]
    public async Task A_stage_entry_whose_slot_has_begun_lapses_when_the_slot_frees_and_the_next_is_offered_theirs()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var host = await WorkHost.StartAsync(fx, clock: clock);
        var s = await Service.OfAsync(host);
        var (alice, bob, carol) = (await s.NewUserAsync(), await s.NewUserAsync(), await s.NewUserAsync());
        var stage = await s.NewStageAsync();
        var tomorrow = DateOnly.FromDateTime(clock.GetLocalNow().DateTime).AddDays(1);
        var date = tomorrow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);
        var alices = (await s.BookAsync(alice, stage, date, "10:00", "13:00")).Is(HttpStatusCode.Created).Id;
        var bobs = (await s.JoinStageAsync(stage, bob, date, "10:00", "11:00")).Is(HttpStatusCode.Created).Id;
        var carols = (await s.JoinStageAsync(stage, carol, date, "12:00", "13:00")).Is(HttpStatusCode.Created).Id;

        // Tomorrow 10:30 by the service's local clock: Bob's slot has begun, Carol's has not.
        clock.Advance(tomorrow.ToDateTime(new TimeOnly(10, 30)) - clock.GetLocalNow().DateTime);
        (await s.Api.DeleteAsync($"/api/bookings/{alices}", alice.Token)).Is(HttpStatusCode.NoContent);
        await UntilAsync(s, clock, carols, "offered");
        Assert.Equal(("lapsed", (long?)null), await s.EntryAsync(bobs));
    }

    // Waits for the entry's status while the fake clock follows real time, so that jobs the database stamped are due.
    private static async Task<long> UntilAsync(Service s, FakeTimeProvider clock, long entry, string status)
    {
        (string Status, long? Hold) last = default;
        await Eventually.HoldsAsync(
            async () =>
            {
                var behind = DateTimeOffset.UtcNow - clock.GetUtcNow();
                clock.Advance(behind > TimeSpan.Zero ? behind : TimeSpan.Zero);
                return (last = await s.EntryAsync(entry)).Status == status;
            },
            () => $"entry {entry} is {last.Status}");
        return last.Hold!.Value;
    }
}

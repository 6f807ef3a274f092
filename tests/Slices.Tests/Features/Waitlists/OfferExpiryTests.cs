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

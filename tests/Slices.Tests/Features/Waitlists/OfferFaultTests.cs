using System.Globalization;
using System.Net;
using Slices.Tests.Features.Restaurant;
using Slices.Tests.Infrastructure;
using Slices.Tests.Reliability;
using Slices.Tests.Work;

namespace Slices.Tests.Features.Waitlists;

public sealed class OfferFaultTests(SlicesFixture fx)
{
    [Fact]
    public async Task Offers_pending_when_the_service_is_killed_are_made_and_mailed_once_after_restart_and_expiry_still_passes_them_on()
    {
        var database = await fx.Database.CreateDatabaseAsync($"offers_{Guid.NewGuid():N}");
        await using var smtp = SmtpSink.Start();
        var settings = new Dictionary<string, string?>
        {
            ["Email:Smtp:Host"] = "127.0.0.1",
            ["Email:Smtp:Port"] = smtp.Port.ToString(CultureInfo.InvariantCulture),
            ["Email:Smtp:UseTls"] = "false",
            // The shortest offer allowed, so that the expiry is seen within the test.
            ["Waitlist:OfferTtl"] = "00:00:30",
            ["Work:LeaseDuration"] = "00:00:03",
        };
        var addresses = Enumerable.Range(0, 3).Select(_ => RestaurantTestData.Email()).ToList();
        long training;
        var entries = new List<long>();
        await using (var doomed = await ServiceProcess.StartAsync(database, new Dictionary<string, string?>(settings) { ["Work:Concurrency"] = "0" }))
        {
            // No workers: the offer jobs that the two places freed are still queued when the process dies.
            var s = new Service(doomed.Api, (await doomed.Api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token, database);
            var enrolled = new[] { await s.NewUserAsync(), await s.NewUserAsync() };
            var waiting = new List<TestUser>();
            foreach (var address in addresses)
            {
                waiting.Add(await s.NewUserAsync(address));
            }

            training = await s.NewTrainingAsync(2, [.. enrolled, .. waiting]);
            await s.EnrolAsync(training, enrolled);
            foreach (var user in waiting)
            {
                entries.Add((await s.JoinAsync(training, user)).Is(HttpStatusCode.Created).Id);
            }

            await Task.WhenAll(enrolled.Select(async u => (await doomed.Api.DeleteAsync($"/api/trainings/{training}/enroll", u.Token)).Is(HttpStatusCode.NoContent)));
            Assert.True(await s.ScalarAsync<long>("SELECT count(*) FROM jobs WHERE kind = 'waitlist.offer' AND state = 'pending'") >= 1);
            await doomed.KillAsync();
        }

        await using var revived = await ServiceProcess.StartAsync(database, settings);
        var after = new Service(revived.Api, string.Empty, database);
        var first = new[] { await smtp.NextAsync(), await smtp.NextAsync() };
        Assert.Equal(addresses[..2].Order(), first.Select(m => m.To.Mailboxes.Single().Address).Order());
        await after.UntilAsync(entries[0], "offered");
        await after.UntilAsync(entries[1], "offered");
        Assert.Equal("waiting", (await after.EntryAsync(entries[2])).Status);

        // Nobody confirms: after 30 s both offers expire, and the one person still waiting is offered a place.
        await after.UntilAsync(entries[2], "offered", seconds: 60);
        var third = await smtp.NextAsync();
        Assert.Equal(addresses[2], third.To.Mailboxes.Single().Address);
        Assert.All(first.Append(third), m => Assert.StartsWith("A place is free for you", m.Subject, StringComparison.Ordinal));
        Assert.Equal("lapsed", (await after.EntryAsync(entries[0])).Status);
        Assert.Equal("lapsed", (await after.EntryAsync(entries[1])).Status);
        foreach (var address in addresses)
        {
            Assert.Equal(1, await after.ScalarAsync<long>("SELECT count(*) FROM outbox_emails WHERE to_address = @address", new { address }));
        }

        Assert.Equal(3, await after.ScalarAsync<long>("SELECT count(*) FROM holds WHERE training_id = @training AND offer", new { training }));
        await Assert.ThrowsAnyAsync<Exception>(() => smtp.NextAsync().WaitAsync(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken));
    }
}

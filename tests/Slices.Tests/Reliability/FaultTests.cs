using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging.Abstractions;
using Slices.Api.Common.Data;
using Slices.Tests.Features.Restaurant;
using Slices.Tests.Infrastructure;
using Slices.Tests.Work;

namespace Slices.Tests.Reliability;

// What happens when a process dies or the database goes away: nothing accepted is lost, nothing runs twice
// where a user could see it, and outages are fast, honest 503s that heal by themselves.
public sealed class FaultTests(SlicesFixture fx)
{
    [Fact]
    public async Task Killing_the_service_with_delayed_events_pending_loses_none_and_creates_each_once()
    {
        var database = await fx.Database.CreateDatabaseAsync($"kill_{Guid.NewGuid():N}");
        var settings = new Dictionary<string, string?> { ["Events:CreationDelay"] = "00:00:02" };
        var jobs = new List<long>();
        TestUser user;
        await using (var doomed = await ServiceProcess.StartAsync(database, settings))
        {
            user = await doomed.Api.SignUpAsync();
            var org = (await doomed.Api.PostAsync("/api/organizations", new { title = "Crash club" }, user.Token)).Is(HttpStatusCode.Created).Id;
            for (var i = 0; i < 5; i++)
            {
                jobs.Add((await doomed.Api.PostAsync("/api/events", new { title = $"Crash survivor {i}", organizations = new[] { org } }, user.Token))
                    .Is(HttpStatusCode.Accepted).Body!["job_id"]!.GetValue<long>());
            }

            await doomed.KillAsync();
        }

        await using var revived = await ServiceProcess.StartAsync(database, settings);
        foreach (var job in jobs)
        {
            Reply? status = null;
            await Work.Eventually.HoldsAsync(
                async () => (status = await revived.Api.GetAsync($"/api/events/jobs/{job}", user.Token)).Body?["status"]?.GetValue<string>() == "succeeded",
                () => status?.Body?.ToJsonString() ?? "no answer", seconds: 30);
        }

        for (var i = 0; i < 5; i++)
        {
            var found = (await revived.Api.GetAsync($"/api/events?search={Uri.EscapeDataString($"Crash survivor {i}")}", user.Token)).Is(HttpStatusCode.OK);
            Assert.Single(found.Array);
        }
    }

    [Fact]
    public async Task A_database_outage_is_a_fast_503_and_the_service_heals_when_it_returns()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"slices-tests-{Environment.ProcessId}-outage-{Guid.NewGuid():N}");
        var cluster = await EmbeddedPostgres.StartAsync(Path.Combine(dir, "data"), "slices_outage", NullLogger.Instance, durable: false, TestContext.Current.CancellationToken);
        try
        {
            await using var host = await SlicesFixture.StartHostAsync(cluster.ConnectionString("slices_outage"));
            using var api = new ApiClient(host.Server.CreateClient());
            var user = await api.SignUpAsync();
            (await api.GetAsync("/api/users/me", user.Token)).Is(HttpStatusCode.OK);

            await cluster.StopAsync();
            foreach (var call in new Func<Task<Reply>>[]
            {
                () => api.GetAsync("/api/users/me", user.Token),
                () => api.GetAsync("/api/stages", user.Token),
                () => api.PostAsync("/api/auth/login", new { username = user.Username, password = user.Password }),
                () => api.GetAsync("/health/ready"),
            })
            {
                var sw = Stopwatch.StartNew();
                var reply = await call();
                Assert.True(sw.Elapsed < TimeSpan.FromSeconds(6), $"an outage answer took {sw.Elapsed.TotalSeconds:0.0} s");
                Assert.Equal(HttpStatusCode.ServiceUnavailable, reply.Status);
                Assert.Equal("application/problem+json", reply.Response.Content.Headers.ContentType?.MediaType);
                Assert.NotNull(reply.Header("Retry-After"));
            }

            await cluster.StartAgainAsync(durable: false, TestContext.Current.CancellationToken);
            Reply? last = null;
            await Work.Eventually.HoldsAsync(async () => (last = await api.GetAsync("/api/users/me", user.Token)).Status == HttpStatusCode.OK,
                () => $"{last?.Status} {last?.Body?.ToJsonString()}", seconds: 20);
            (await api.GetAsync("/health/ready")).Is(HttpStatusCode.OK);
        }
        finally
        {
            await cluster.StopAsync();
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Emails_and_webhooks_pending_while_smtp_and_accounting_are_down_and_the_service_is_killed_arrive_once()
    {
        var database = await fx.Database.CreateDatabaseAsync($"outbox_{Guid.NewGuid():N}");
        var smtpPort = SmtpSink.FreePort();
        await using var accounting = await WebhookReceiver.StartAsync();
        accounting.Otherwise = 503;
        var settings = new Dictionary<string, string?>
        {
            ["Email:Smtp:Host"] = "127.0.0.1",
            ["Email:Smtp:Port"] = smtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Email:Smtp:UseTls"] = "false",
            ["Restaurant:Accounting:Url"] = accounting.Url,
            ["Restaurant:Accounting:Secret"] = "fault-test-secret",
            // A delivery in flight when the process dies is taken up again once its lease runs out (1 min by default).
            ["Work:LeaseDuration"] = "00:00:03",
        };
        var guests = Enumerable.Range(0, 3).Select(_ => RestaurantTestData.Email()).ToList();
        await using (var doomed = await ServiceProcess.StartAsync(database, settings))
        {
            var admin = (await doomed.Api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;
            var table = await doomed.Api.NewTableIdAsync(admin);
            for (var i = 0; i < guests.Count; i++)
            {
                await doomed.Api.RequestIdAsync(table, RestaurantTestData.Future(days: 10 + i), email: guests[i]);
            }

            // Both receivers are down: let the deliveries fail and back off a little, then kill the process mid-retry.
            await Task.Delay(1500, TestContext.Current.CancellationToken);
            await doomed.KillAsync();
        }

        Assert.NotEmpty(accounting.Requests);
        await using var smtp = SmtpSink.Start(smtpPort);
        accounting.Requests.Clear();
        accounting.Otherwise = 200;
        await using var revived = await ServiceProcess.StartAsync(database, settings);

        var recipients = new List<string>();
        for (var i = 0; i < guests.Count; i++)
        {
            recipients.Add((await smtp.NextAsync()).To.Mailboxes.Single().Address);
        }

        Assert.Equal(guests.Order(), recipients.Order());
        await Eventually.HoldsAsync(() => accounting.Requests.Count >= guests.Count, () => $"{accounting.Requests.Count} webhooks");
        await Task.Delay(1500, TestContext.Current.CancellationToken);
        var delivered = accounting.Requests.ToList();
        Assert.Equal(guests.Count, delivered.Count);
        Assert.Equal(guests.Count, delivered.Select(r => r.Header("X-Delivery-Id")).Distinct().Count());
        Assert.All(delivered, r => Assert.Contains("reservation.requested", System.Text.Encoding.UTF8.GetString(r.Body), StringComparison.Ordinal));
        await Assert.ThrowsAnyAsync<Exception>(() => smtp.NextAsync().WaitAsync(TimeSpan.FromSeconds(1), TestContext.Current.CancellationToken));
    }
}

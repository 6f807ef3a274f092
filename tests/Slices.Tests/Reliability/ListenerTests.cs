using System.Net;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Slices.Api.Common.Work;
using Slices.Tests.Features.Stages;
using Slices.Tests.Infrastructure;
using Slices.Tests.Work;

namespace Slices.Tests.Reliability;

// Each instance hears PostgreSQL on one LISTEN connection (Common/Data/PgListener), whose notifications go to the job
// workers, the chat fan-out, the session cache and the stage cache; losing it must be recovered for every one of them.
public sealed class ListenerTests(SlicesFixture fx)
{
    private const string Revoke = "UPDATE sessions SET revoked_at = now() WHERE user_id = @Id AND revoked_at IS NULL";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task One_connection_listens_for_every_subscriber_and_each_recovers_when_it_is_killed()
    {
        // A database of its own, so that the instance's connections are the only ones there. The workers poll once a
        // minute: a job that runs within seconds was woken by a notification, or by the listener coming back.
        var probe = new ProbeHandler("listener.probe");
        await using var host = await WorkHost.StartAsync(fx, s => s.AddSingleton<IJobHandler>(probe), new Dictionary<string, string?> { ["Work:PollInterval"] = "00:01:00" });
        var api = host.Api;
        var admin = (await api.LogInAsync(SlicesFixture.AdminUsername, SlicesFixture.AdminPassword)).Token;
        var stage = (await api.PostAsync("/api/stages", new { name = "before", open_time = "09:00", close_time = "17:00" }, admin)).Is(HttpStatusCode.Created).Id;
        var revokedHeard = await api.SignUpAsync();
        var revokedUnheard = await api.SignUpAsync();
        var chatter = await api.SignUpAsync();
        var room = $"listen-{Guid.NewGuid():N}"[..20];
        await using var socket = await ChatClient.ConnectAsync(host.Host, chatter.Token);
        await using var conn = await host.OpenAsync();

        Task NamedSoonAsync(string name, string why) => StageCacheTests.NamedSoonAsync(api, stage, admin, name, why);
        Task RefusedSoonAsync(TestUser user, string why) =>
            Eventually.HoldsAsync(async () => (await api.GetAsync("/api/users/me", user.Token)).Status == HttpStatusCode.Unauthorized, () => why, seconds: 2);
        Task RunsSoonAsync(long job, string why) => Eventually.HoldsAsync(() => probe.RunsOf(job) == 1, () => why, seconds: 5);

        // Every subscriber hears through it: chat (a join waits for its own probe message to come back), the stage
        // cache and the session cache (each had the value cached), and the workers.
        await socket.JoinAsync(room);
        await NamedSoonAsync("before", "the stage is not served");
        await conn.ExecuteAsync("UPDATE stages SET name = 'renamed' WHERE id = @stage", new { stage });
        await NamedSoonAsync("renamed", "the stage cache does not hear of a change");
        (await api.GetAsync("/api/users/me", revokedHeard.Token)).Is(HttpStatusCode.OK);
        await conn.ExecuteAsync(Revoke, revokedHeard);
        await RefusedSoonAsync(revokedHeard, "the session cache does not hear of a revoked session");
        await RunsSoonAsync(await host.EnqueueAsync("listener.probe", new { n = 1 }), "the workers do not hear of a job");

        // All of that through one connection.
        var listener = Assert.Single(await TestDatabase.ListenersAsync(host.ConnectionString));

        // Killed, and waited for: what commits before the instance reconnects (a second later) reaches no one.
        (await api.GetAsync("/api/users/me", revokedUnheard.Token)).Is(HttpStatusCode.OK);
        Assert.True(await conn.ExecuteScalarAsync<bool>("SELECT pg_terminate_backend(@listener, 5000)", new { listener }));
        long unheardJob;
        await using (var tx = await conn.BeginTransactionAsync(Ct))
        {
            await conn.ExecuteAsync("UPDATE stages SET name = 'while deaf' WHERE id = @stage", new { stage }, tx);
            await conn.ExecuteAsync(Revoke, revokedUnheard, tx);
            unheardJob = await host.Jobs.EnqueueAsync(conn, tx, "listener.probe", new { n = 2 }, null, Ct);
            await tx.CommitAsync(Ct);
        }

        var committed = await conn.ExecuteScalarAsync<DateTime>("SELECT clock_timestamp()");
        var again = await TestDatabase.ListenerAsync(host.ConnectionString, replacing: listener);
        var listening = await conn.ExecuteScalarAsync<DateTime>("SELECT state_change FROM pg_stat_activity WHERE pid = @again", new { again });
        Assert.True(listening > committed, $"the instance listened again ({listening:O}) before the changes committed ({committed:O}): nothing was missed");

        // Each subscriber catches up: the caches were dropped, the workers look for work once listening again.
        await NamedSoonAsync("while deaf", "the stage cache kept a stage changed while it could not hear");
        await RefusedSoonAsync(revokedUnheard, "the session cache kept a session revoked while it could not hear");
        await RunsSoonAsync(unheardJob, "a job enqueued while the workers could not hear waits for the poll");

        // And hears again, still on one connection.
        await socket.SendAsync(new { type = "message", room, text = "heard again" });
        Assert.Equal("heard again", (await socket.ReceiveAsync())!["text"]!.GetValue<string>());
        await conn.ExecuteAsync("UPDATE stages SET name = 'heard again' WHERE id = @stage", new { stage });
        await NamedSoonAsync("heard again", "the stage cache does not hear again");
        await RunsSoonAsync(await host.EnqueueAsync("listener.probe", new { n = 3 }), "the workers do not hear again");
        Assert.Equal([again], await TestDatabase.ListenersAsync(host.ConnectionString));
    }
}

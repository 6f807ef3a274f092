using Npgsql;

namespace Slices.Api.Common.Data;

// What hears PostgreSQL notifications through the instance's PgListener. Registered with AddPgSubscriber, so that
// every channel is known before the connection LISTENs.
public interface IPgSubscriber
{
    // Fixed for the life of the instance; none: this subscriber hears nothing.
    IReadOnlyCollection<string> Channels { get; }

    // Called on the listener's connection, one notification after another: quick and without I/O (slow work is queued).
    void OnNotification(NpgsqlNotificationEventArgs notification);

    // After every (re)connection, once LISTEN is in place on every channel: notifications may have been missed before it.
    void OnListening();

    // The connection is gone, or the instance stops: notifications are missed until the next OnListening.
    void OnLost();
}

// The instance's one LISTEN connection, taken from the pool and held: it LISTENs on the channels of every subscriber
// and hands each notification to the subscribers of its channel. It reconnects a second after any failure, and pings
// a connection that has been quiet for 30 s so that a silently dead one throws and is replaced.
public sealed class PgListener(NpgsqlDataSource db, IEnumerable<IPgSubscriber> subscribers, ILogger<PgListener> logger) : BackgroundService
{
    private static readonly TimeSpan QuietPing = TimeSpan.FromSeconds(30);

    // Real time, whatever TimeProvider the instance runs on: the connection is real.
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly IPgSubscriber[] all = [.. subscribers];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var byChannel = all
            .SelectMany(s => s.Channels.Select(channel => (channel, s)))
            .GroupBy(x => x.channel, x => x.s, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        if (byChannel.Count == 0)
        {
            return;
        }

        var listen = string.Join(' ', byChannel.Keys.Order(StringComparer.Ordinal).Select(c => $"LISTEN {c};"));
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await using var conn = await db.OpenConnectionAsync(stoppingToken);
                    conn.Notification += (_, n) =>
                    {
                        foreach (var s in byChannel.GetValueOrDefault(n.Channel, []))
                        {
                            s.OnNotification(n);
                        }
                    };
                    await using (var command = new NpgsqlCommand(listen, conn))
                    {
                        await command.ExecuteNonQueryAsync(stoppingToken);
                    }

                    Array.ForEach(all, s => s.OnListening());
                    while (!stoppingToken.IsCancellationRequested)
                    {
                        if (!await conn.WaitAsync(QuietPing, stoppingToken))
                        {
                            await using var ping = new NpgsqlCommand("SELECT 1", conn);
                            await ping.ExecuteNonQueryAsync(stoppingToken);
                        }
                    }
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(e, "Lost the LISTEN connection; notifications on {Channels} are missed until it is back", string.Join(", ", byChannel.Keys));
                    Array.ForEach(all, s => s.OnLost());
                    await Task.Delay(RetryDelay, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
            }
        }
        finally
        {
            Array.ForEach(all, s => s.OnLost());
        }
    }
}

public static class PgListenerSetup
{
    // T, already registered as a singleton, hears its channels through the instance's PgListener.
    public static IServiceCollection AddPgSubscriber<T>(this IServiceCollection services)
        where T : class, IPgSubscriber =>
        services.AddSingleton<IPgSubscriber>(sp => sp.GetRequiredService<T>());
}

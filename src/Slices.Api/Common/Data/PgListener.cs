using Npgsql;

namespace Slices.Api.Common.Data;

// One long-lived LISTEN connection, kept alive: it reconnects after any failure, and pings a connection that has
// been quiet for 30 s so that a silently dead one throws and is replaced. Used by the job workers, the chat
// fan-out and the session cache, which differ only in what they do with a notification and with a lost connection.
public static class PgListener
{
    private static readonly TimeSpan QuietPing = TimeSpan.FromSeconds(30);

    // onListening: After every (re)connection, once LISTEN is in place: notifications may have been missed before it.
    // onLost: When the connection broke; it is retried after retryDelay.
    public static async Task RunAsync(
        NpgsqlDataSource db,
        string channels,
        Action<NpgsqlNotificationEventArgs> onNotification,
        Action onListening,
        Action<Exception> onLost,
        TimeSpan retryDelay,
        TimeProvider clock,
        CancellationToken stopping)
    {
        var listen = string.Join(' ', channels.Split(',', StringSplitOptions.TrimEntries).Select(c => $"LISTEN {c};"));
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await using var conn = await db.OpenConnectionAsync(stopping);
                conn.Notification += (_, n) => onNotification(n);
                await using (var command = new NpgsqlCommand(listen, conn))
                {
                    await command.ExecuteNonQueryAsync(stopping);
                }

                onListening();
                while (!stopping.IsCancellationRequested)
                {
                    if (!await conn.WaitAsync(QuietPing, stopping))
                    {
                        await using var ping = new NpgsqlCommand("SELECT 1", conn);
                        await ping.ExecuteNonQueryAsync(stopping);
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                onLost(e);
                await Task.Delay(retryDelay, clock, stopping).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }
}

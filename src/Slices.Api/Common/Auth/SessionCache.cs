using System.Collections.Concurrent;
using System.Globalization;
using Npgsql;
using Slices.Api.Common.Data;

namespace Slices.Api.Common.Auth;

// Live sessions remembered in memory, so the per-request session check costs no database round trip. It is only
// trusted while this instance is LISTENing: PostgreSQL announces revoked sessions (`session_revoked`) and
// role or activity changes (`user_changed`) to every instance, and the instance that makes such a change also
// evicts at once, so a logged-out token fails on the very next request. While the listener is down the cache is
// empty and every check goes to the database; entries also expire after a minute as a backstop.
public sealed class SessionCache(NpgsqlDataSource db, TimeProvider clock, ILogger<SessionCache> logger) : BackgroundService
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<Guid, Entry> entries = new();
    private long generation;
    private volatile bool listening;

    // The user's role while the session is live and the user active; null once it has ended.
    public async Task<string?> LiveRoleAsync(Guid sid, long sub, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (listening && entries.TryGetValue(sid, out var hit) && hit.UserId == sub && now - hit.At < Lifetime)
        {
            return hit.Role;
        }

        // A revocation that lands between the read and the insert bumps the generation, and the stale answer is not kept.
        var before = Interlocked.Read(ref generation);
        var role = await Sessions.LiveRoleAsync(db, sid, sub, ct);
        if (role is not null && listening && Interlocked.Read(ref generation) == before)
        {
            entries[sid] = new Entry(sub, role, now);
        }

        return role;
    }

    public void EvictSession(Guid sid)
    {
        Interlocked.Increment(ref generation);
        entries.TryRemove(sid, out _);
    }

    public void EvictUser(long userId)
    {
        Interlocked.Increment(ref generation);
        foreach (var (sid, entry) in entries)
        {
            if (entry.UserId == userId)
            {
                entries.TryRemove(sid, out _);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await PgListener.RunAsync(
            db,
            "session_revoked, user_changed",
            n =>
            {
                if (n.Channel == "session_revoked" && Guid.TryParse(n.Payload, out var sid))
                {
                    EvictSession(sid);
                }
                else if (n.Channel == "user_changed" && long.TryParse(n.Payload, NumberStyles.None, CultureInfo.InvariantCulture, out var user))
                {
                    EvictUser(user);
                }
            },
            () => listening = true,
            e =>
            {
                logger.LogWarning(e, "Session cache lost its LISTEN connection; checking every session in the database until it is back");
                Forget();
            },
            TimeSpan.FromSeconds(1),
            clock,
            stoppingToken);
        Forget();
    }

    // Notifications may be missed while not listening: forget everything rather than trust it.
    private void Forget()
    {
        listening = false;
        Interlocked.Increment(ref generation);
        entries.Clear();
    }

    private sealed record Entry(long UserId, string Role, DateTimeOffset At);
}

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
    private readonly NotifiedCache<Guid, Entry> entries = new("session", clock, TimeSpan.FromMinutes(1), 100_000);

    // The user's role while the session is live and the user active; null once it has ended.
    public async Task<string?> LiveRoleAsync(Guid sid, long sub, CancellationToken ct)
    {
        var entry = await entries.GetOrLoadAsync(
            sid, async token => await Sessions.LiveRoleAsync(db, sid, sub, token) is { } role ? new Entry(sub, role) : null, ct);
        return entry?.UserId == sub ? entry.Role : null;
    }

    public void EvictSession(Guid sid) => entries.Evict(sid);

    public void EvictUser(long userId) => entries.EvictWhere(e => e.UserId == userId);

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
            entries.Listening,
            e =>
            {
                logger.LogWarning(e, "Session cache lost its LISTEN connection; checking every session in the database until it is back");
                entries.Forget();
            },
            TimeSpan.FromSeconds(1),
            clock,
            stoppingToken);
        entries.Forget();
    }

    private sealed record Entry(long UserId, string Role);
}

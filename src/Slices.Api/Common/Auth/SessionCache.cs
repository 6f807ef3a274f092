using System.Globalization;
using Npgsql;
using Slices.Api.Common.Data;

namespace Slices.Api.Common.Auth;

// Live sessions remembered in memory, so the per-request session check costs no database round trip. It is only
// trusted while this instance is LISTENing (Common/Data/PgListener): PostgreSQL announces revoked sessions
// (`session_revoked`) and role or activity changes (`user_changed`) to every instance, and the instance that makes
// such a change also evicts at once, so a logged-out token fails on the very next request. While the listener is
// down the cache is empty and every check goes to the database; entries also expire after a minute as a backstop.
public sealed class SessionCache(NpgsqlDataSource db, TimeProvider clock) : IPgSubscriber
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

    public IReadOnlyCollection<string> Channels { get; } = ["session_revoked", "user_changed"];

    public void OnNotification(NpgsqlNotificationEventArgs notification)
    {
        if (notification.Channel == "session_revoked" && Guid.TryParse(notification.Payload, out var sid))
        {
            EvictSession(sid);
        }
        else if (notification.Channel == "user_changed" && long.TryParse(notification.Payload, NumberStyles.None, CultureInfo.InvariantCulture, out var user))
        {
            EvictUser(user);
        }
    }

    public void OnListening() => entries.Listening();

    public void OnLost() => entries.Forget();

    private sealed record Entry(long UserId, string Role);
}

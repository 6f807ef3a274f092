using Dapper;
using Npgsql;

namespace Slices.Api.Common.Auth;

// Whether a session still stands: asked on every request by the JWT check and by the admin panel's cookie check.
public static class Sessions
{
    private const string LiveRole = """
        SELECT u.role
        FROM sessions s JOIN users u ON u.id = s.user_id
        WHERE s.id = @sid AND s.revoked_at IS NULL AND u.is_active AND u.id = @sub
        """;

    // The user's current role while session sid of user sub is open and the user
    // active; null once it has ended (log-out, refresh-token reuse, deactivation). One primary-key lookup.
    public static async Task<string?> LiveRoleAsync(NpgsqlDataSource db, Guid sid, long sub, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<string>(new CommandDefinition(LiveRole, new { sid, sub }, cancellationToken: ct));
    }
}

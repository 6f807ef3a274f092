using Dapper;
using Npgsql;
using Slices.Api.Common.Http;

namespace Slices.Api.Common.Auth;

// The password check every sign-in makes (the API's log-in and the admin panel's): a username or email and a
// password, at most MaxFailures failures per account in FailureWindow, and as slow for an
// unknown or deactivated account as for a wrong password.
public sealed class Credentials(NpgsqlDataSource db, Passwords passwords, TimeProvider clock)
{
    public const int MaxFailures = 10;
    public static readonly TimeSpan FailureWindow = TimeSpan.FromMinutes(15);

    private const string FindUser = """
        SELECT id, password_hash, is_active FROM users
        WHERE username = @account::citext OR email = @account::citext
        ORDER BY (username = @account::citext) DESC NULLS LAST
        LIMIT 1
        """;

    private const string RecentFailures = "SELECT failures FROM login_failures WHERE account = @account::citext AND window_start > @since";

    private const string RecordFailure = """
        INSERT INTO login_failures AS f (account, failures, window_start) VALUES (@account, 1, @now)
        ON CONFLICT (account) DO UPDATE SET
            failures = CASE WHEN f.window_start > @since THEN f.failures + 1 ELSE 1 END,
            window_start = CASE WHEN f.window_start > @since THEN f.window_start ELSE @now END
        """;

    private static readonly Failure InvalidCredentials = new(401, "invalid_credentials", "The username/email or password is wrong.");

    // The user's id when password is right; 401 `invalid_credentials` or 429 `too_many_attempts` otherwise.
    public async Task<Result<long>> CheckAsync(string account, string password, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var since = now - FailureWindow;
        await using var conn = await db.OpenConnectionAsync(ct);
        var failures = await conn.QuerySingleOrDefaultAsync<int?>(new CommandDefinition(RecentFailures, new { account, since }, cancellationToken: ct));
        if (failures >= MaxFailures)
        {
            return new Failure(429, "too_many_attempts", "Too many failed log-ins for this account; try again later.")
            {
                RetryAfterSeconds = (int)FailureWindow.TotalSeconds,
            };
        }

        var user = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(FindUser, new { account }, cancellationToken: ct));
        var valid = user is { IsActive: true } ? passwords.Verify(password, user.PasswordHash) : VerifyNothing(password);
        if (!valid)
        {
            await conn.ExecuteAsync(new CommandDefinition(RecordFailure, new { account, now, since }, cancellationToken: ct));
            return InvalidCredentials;
        }

        await conn.ExecuteAsync(new CommandDefinition("DELETE FROM login_failures WHERE account = @account::citext", new { account }, cancellationToken: ct));
        return user!.Id;
    }

    private bool VerifyNothing(string password)
    {
        passwords.VerifyNothing(password);
        return false;
    }

    private sealed record Row(long Id, string PasswordHash, bool IsActive);
}

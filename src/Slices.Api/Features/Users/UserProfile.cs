using System.Text.RegularExpressions;
using Dapper;
using FluentValidation;
using Npgsql;
using Slices.Api.Common.Data;

[assembly: PgConstraint("users_username_key", 409, "duplicate_username", "That username is taken.")]
[assembly: PgConstraint("users_email_key", 409, "duplicate_email", "That email address is already registered.")]

namespace Slices.Api.Features.Users;

// A user as every account route shows it. Shared by the Users and Auth slices, which all answer with it.
public sealed record UserProfile(
    long Id,
    string? Username,
    string? Email,
    string? PhoneNumber,
    string FirstName,
    string LastName,
    string ThirdName,
    DateOnly? BirthDate,
    string Role,
    long[] Groups,
    bool IsActive,
    DateTime CreatedAt);

public static partial class UserProfiles
{
    // Selects UserProfile columns plus `version`; append a WHERE on `u`.
    public const string Select = """
        SELECT u.id, u.username::text, u.email::text, u.phone_number, u.first_name, u.last_name, u.third_name, u.birth_date,
               u.role, ARRAY(SELECT gm.group_id FROM group_members gm WHERE gm.user_id = u.id ORDER BY gm.group_id) AS groups,
               u.is_active, u.created_at, u.xmin::text::bigint AS version
        FROM users u
        """;

    public static async Task<(UserProfile Profile, long Version)?> FindAsync(NpgsqlConnection conn, string where, object args, CancellationToken ct, NpgsqlTransaction? tx = null)
    {
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"{Select} WHERE {where}", args, tx, cancellationToken: ct));
        return row is null ? null : (row.ToProfile(), row.Version);
    }

    public static async Task<IReadOnlyList<UserProfile>> ListAsync(NpgsqlConnection conn, string whereAndOrder, object args, CancellationToken ct)
    {
        var rows = await conn.QueryAsync<Row>(new CommandDefinition($"{Select} {whereAndOrder}", args, cancellationToken: ct));
        return rows.Select(r => r.ToProfile()).ToList();
    }

    // Every write of group_members takes its locks in one order: the groups it adds members to (key share, as the
    // foreign key would) and the groups it removes members from (share), then the users whose membership changes
    // (db/0013's trigger updates their rows for the ETag), then the memberships themselves, and last the trainings whose
    // places a leaver gives up (db/0014's trigger); a group's deletion locks the group, then its members (DeleteGroup).
    // So no two membership writes wait for each other in opposite orders: without it, a PUT of a user's groups racing the
    // group member routes or a group's deletion deadlocked. The share lock on a group left conflicts with the lock a
    // training moving into it takes first (UpdateTraining), so the move and the removal cannot miss each other.
    // Parameters `groups`, `leaving` and `users`, bigint arrays.
    public const string LockForMembership = """
        SELECT id FROM groups WHERE id = ANY (@groups) ORDER BY id FOR KEY SHARE;
        SELECT id FROM groups WHERE id = ANY (@leaving) ORDER BY id FOR SHARE;
        SELECT id FROM users WHERE id = ANY (@users) ORDER BY id FOR NO KEY UPDATE;
        """;

    // Makes a user's memberships exactly @Groups (an unknown group is the FK's 400 unknown_group); a group left gives up
    // the user's places in its upcoming trainings in the same statement (db/0014's trigger). Run after
    // LockForMembership, in its order. Parameters `Id` and `Groups`.
    public const string SetGroups = """
        DELETE FROM group_members WHERE user_id = @Id AND group_id <> ALL (@Groups);
        INSERT INTO group_members (group_id, user_id) SELECT g, @Id FROM unnest(@Groups) AS g ON CONFLICT DO NOTHING;
        """;

    // A new account as SignUp and CreateUser insert it; names left out are empty.
    public sealed record NewAccount(
        string? Username, string? Email, string PasswordHash, string? PhoneNumber, string? FirstName, string? LastName, string? ThirdName,
        DateOnly? BirthDate, string Role = "user", bool IsActive = true);

    private const string Insert = """
        INSERT INTO users (username, email, password_hash, phone_number, first_name, last_name, third_name, birth_date, role, is_active)
        VALUES (@Username, @Email, @PasswordHash, @PhoneNumber, @FirstName, @LastName, @ThirdName, @BirthDate, @Role, @IsActive)
        RETURNING id
        """;

    // The duplicate username or email is the unique index's 409 (the constraints above).
    public static Task<long> InsertAsync(NpgsqlConnection conn, NpgsqlTransaction tx, NewAccount a, CancellationToken ct) =>
        conn.ExecuteScalarAsync<long>(new CommandDefinition(Insert, a with
        {
            FirstName = a.FirstName ?? string.Empty,
            LastName = a.LastName ?? string.Empty,
            ThirdName = a.ThirdName ?? string.Empty,
        }, tx, cancellationToken: ct));

    // Finds `/api/users/{username}`: by username, or by email for accounts that have no username.
    public const string ByKey = "(u.username = @key::citext OR (u.username IS NULL AND u.email = @key::citext))";

    [GeneratedRegex(@"^[\w.@+-]{1,150}$")]
    public static partial Regex UsernamePattern();

    [GeneratedRegex(@"^\+[0-9]{7,15}$")]
    public static partial Regex PhonePattern();

    public static IRuleBuilderOptions<T, string?> ValidUsername<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(u => u is null || UsernamePattern().IsMatch(u)).WithMessage("username must be 1–150 letters, digits or . @ + - _.");

    public static IRuleBuilderOptions<T, string?> ValidEmail<T>(this IRuleBuilder<T, string?> rule) =>
        rule.MaximumLength(254).EmailAddress().WithMessage("email must be a valid email address.");

    public static IRuleBuilderOptions<T, string?> ValidPassword<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(p => p is null || p.Length is >= 8 and <= 128).WithMessage("password must be 8–128 characters.");

    public static IRuleBuilderOptions<T, string?> ValidPhone<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(p => p is null || PhonePattern().IsMatch(p)).WithMessage("phone_number must be in E.164 form: + and 7–15 digits.");

    public static IRuleBuilderOptions<T, string?> ValidName<T>(this IRuleBuilder<T, string?> rule) => rule.MaximumLength(150);

    public static IRuleBuilderOptions<T, DateOnly?> ValidBirthDate<T>(this IRuleBuilder<T, DateOnly?> rule, TimeProvider clock) =>
        rule.Must(d => d is null || (d.Value <= DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime) && d.Value.Year >= 1900))
            .WithMessage("birth_date must be a past date after 1900.");

    private sealed record Row(long Id, string? Username, string? Email, string? PhoneNumber, string FirstName, string LastName, string ThirdName,
        DateOnly? BirthDate, string Role, long[] Groups, bool IsActive, DateTime CreatedAt, long Version)
    {
        public UserProfile ToProfile() => new(Id, Username, Email, PhoneNumber, FirstName, LastName, ThirdName, BirthDate, Role, Groups, IsActive, CreatedAt);
    }
}

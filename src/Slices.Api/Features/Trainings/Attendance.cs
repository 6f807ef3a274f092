using Dapper;
using FluentValidation;
using Npgsql;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Trainings;

// Whether a user came to a training: `status` is `attended`, `missed` or `excused`.
public sealed record Attendance(long Id, long Training, long User, string Status, DateTime MarkedAt);

public static class Attendances
{
    public static readonly string[] Statuses = ["attended", "missed", "excused"];

    // Selects Attendance columns plus `version` of `attendances a` joined to its `trainings t`.
    public const string Select = """
        SELECT a.id, a.training_id AS training, a.user_id AS "user", a.status, a.marked_at, a.xmin::text::bigint AS version
        FROM attendances a JOIN trainings t ON t.id = a.training_id
        """;

    // Oldest training first; takes `@limit` and `@offset`.
    public const string PageOrder = "ORDER BY t.date, t.start_time, a.id LIMIT @limit OFFSET @offset";

    public static IRuleBuilderOptions<T, string?> KnownStatus<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(s => s is null || Statuses.Contains(s)).WithMessage("status must be one of attended, missed, excused.");

    public static async Task<(Attendance Attendance, long Version)?> FindAsync(NpgsqlConnection conn, long id, CancellationToken ct)
    {
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"{Select} WHERE a.id = @id", new { id }, cancellationToken: ct));
        return row is null ? null : (row.ToAttendance(), row.Version);
    }

    // One page of attendance records matching where (over `a` and `t`), with the total.
    public static async Task<Page<Attendance>> PageAsync(NpgsqlConnection conn, string where, object args, CancellationToken ct)
    {
        var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT count(*) FROM attendances a JOIN trainings t ON t.id = a.training_id WHERE {where}", args, cancellationToken: ct));
        var rows = await conn.QueryAsync<Row>(new CommandDefinition($"{Select} WHERE {where} {PageOrder}", args, cancellationToken: ct));
        return new(rows.Select(r => r.ToAttendance()).ToList(), total);
    }

    public sealed record Row(long Id, long Training, long User, string Status, DateTime MarkedAt, long Version)
    {
        public Attendance ToAttendance() => new(Id, Training, User, Status, MarkedAt);
    }
}

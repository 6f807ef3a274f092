using System.Diagnostics.CodeAnalysis;
using Dapper;
using FluentValidation;
using Npgsql;

namespace Slices.Api.Features.Trainings;

// A training as every training route shows it; `users` are the enrolled users' ids.
public sealed record Training(long Id, DateOnly Date, TimeOnly StartTime, TimeOnly EndTime, decimal Price, long Group, int? Capacity, long[] Users);

// What an admin writes on create and replace. Nullable so that a missing member is a 400, not a zero.
public interface ITrainingFields
{
    [SuppressMessage("Naming", "CA1716", Justification = "The contract's JSON member is 'date'; no Visual Basic code implements this.")]
    DateOnly? Date { get; }

    TimeOnly? StartTime { get; }

    TimeOnly? EndTime { get; }

    decimal? Price { get; }

    long? Group { get; }

    int? Capacity { get; }
}

// The rules of a training's fields, shared by create and replace.
public abstract class TrainingFieldsValidator<T> : AbstractValidator<T>
    where T : ITrainingFields
{
    public const int MaxCapacity = 10_000;

    protected TrainingFieldsValidator()
    {
        RuleFor(x => x.Date).NotNull();
        RuleFor(x => x.StartTime).NotNull();
        RuleFor(x => x.EndTime).NotNull();
        RuleFor(x => x.EndTime).GreaterThan(x => x.StartTime).When(x => x.StartTime is not null && x.EndTime is not null)
            .WithMessage("end_time must be after start_time.");
        RuleFor(x => x.Price).NotNull().GreaterThanOrEqualTo(0).PrecisionScale(10, 2, ignoreTrailingZeros: true);
        RuleFor(x => x.Group).NotNull();
        RuleFor(x => x.Capacity).InclusiveBetween(1, MaxCapacity).WithMessage($"capacity must be between 1 and {MaxCapacity}, or null for no limit.");
    }
}

// A list query over a period of training dates: `date_from` and `date_to`, both inclusive, either open.
public interface IPeriodQuery
{
    DateOnly? DateFrom { get; }

    DateOnly? DateTo { get; }
}

public static class Period
{
    // The training `t` lies in the period; takes `@DateFrom` and `@DateTo`.
    public const string Sql = "(@DateFrom::date IS NULL OR t.date >= @DateFrom) AND (@DateTo::date IS NULL OR t.date <= @DateTo)";

    public static void PeriodRules<T>(this AbstractValidator<T> validator)
        where T : IPeriodQuery =>
        validator.RuleFor(x => x.DateTo).GreaterThanOrEqualTo(x => x.DateFrom).When(x => x.DateFrom is not null && x.DateTo is not null)
            .WithMessage("date_to must not be before date_from.");
}

public static class Trainings
{
    // Selects Training columns plus `version` of `trainings t`; append a WHERE.
    public const string Select = """
        SELECT t.id, t.date, t.start_time, t.end_time, t.price, t.group_id AS "group", t.capacity,
               ARRAY(SELECT e.user_id FROM training_enrollments e WHERE e.training_id = t.id ORDER BY e.user_id) AS users,
               t.xmin::text::bigint AS version
        FROM trainings t
        """;

    // Admins see every training, a user those of own groups; takes `@admin` and `@caller`.
    public const string VisibleToCaller =
        "(@admin OR EXISTS (SELECT 1 FROM group_members gm WHERE gm.group_id = t.group_id AND gm.user_id = @caller))";

    public static async Task<(Training Training, long Version)?> FindAsync(NpgsqlConnection conn, string where, object args, CancellationToken ct, NpgsqlTransaction? tx = null)
    {
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"{Select} WHERE {where}", args, tx, cancellationToken: ct));
        return row is null ? null : (row.ToTraining(), row.Version);
    }

    public static async Task<IReadOnlyList<Training>> ListAsync(NpgsqlConnection conn, string whereAndOrder, object args, CancellationToken ct)
    {
        var rows = await conn.QueryAsync<Row>(new CommandDefinition($"{Select} {whereAndOrder}", args, cancellationToken: ct));
        return rows.Select(r => r.ToTraining()).ToList();
    }

    private sealed record Row(long Id, DateOnly Date, TimeOnly StartTime, TimeOnly EndTime, decimal Price, long Group, int? Capacity, long[] Users, long Version)
    {
        public Training ToTraining() => new(Id, Date, StartTime, EndTime, Price, Group, Capacity, Users);
    }
}

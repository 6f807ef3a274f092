using System.Data;
using Dapper;

namespace Slices.Api.Common.Data;

// Dapper reads `date`/`time` columns into DateOnly/TimeOnly members, and `bigint[]` (which a
// reader reports as System.Array) into long[] constructor parameters of positional records, through these.
public static class TypeHandlers
{
    public static void Register()
    {
        SqlMapper.AddTypeHandler(new DateOnlyHandler());
        SqlMapper.AddTypeHandler(new TimeOnlyHandler());
        SqlMapper.AddTypeHandler(new IdArrayHandler());
    }

    private sealed class IdArrayHandler : SqlMapper.TypeHandler<long[]>
    {
        public override void SetValue(IDbDataParameter parameter, long[]? value) => parameter.Value = value;

        public override long[] Parse(object value) => (long[])value;
    }

    private sealed class DateOnlyHandler : SqlMapper.TypeHandler<DateOnly>
    {
        public override void SetValue(IDbDataParameter parameter, DateOnly value) => parameter.Value = value;

        public override DateOnly Parse(object value) => value switch
        {
            DateOnly d => d,
            DateTime dt => DateOnly.FromDateTime(dt),
            _ => throw new DataException($"Cannot read {value.GetType()} as a date."),
        };
    }

    private sealed class TimeOnlyHandler : SqlMapper.TypeHandler<TimeOnly>
    {
        public override void SetValue(IDbDataParameter parameter, TimeOnly value) => parameter.Value = value;

        public override TimeOnly Parse(object value) => value switch
        {
            TimeOnly t => t,
            TimeSpan ts => TimeOnly.FromTimeSpan(ts),
            _ => throw new DataException($"Cannot read {value.GetType()} as a time."),
        };
    }
}

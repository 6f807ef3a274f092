using Dapper;
using FluentValidation;
using Npgsql;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

[assembly: PgConstraint("restaurant_tables_label_key", 409, "duplicate_label", "A table with this label exists already.")]
[assembly: PgConstraint("restaurant_tables_label_length", 400, "validation_failed", "label must be 1–100 characters.", Field = "label")]

namespace Slices.Api.Features.Restaurant;

// A table as every table route shows it, with the price that holds now (null while none was ever set).
public sealed record RestaurantTable(long Id, string Label, string Kind, int Seats, decimal? Price, bool CanBeBooked);

// One price of a table's history: it holds from `effective_from` until a later one takes over.
public sealed record TablePrice(long Id, long Table, decimal Price, DateTime EffectiveFrom, DateTime CreatedAt);

// What PATCH merges over and the replace command writes. Absent `can_be_booked` is true.
public sealed record TableChanges(string? Label, string? Kind, int? Seats, bool? CanBeBooked = null)
{
    public static TableChanges From(RestaurantTable t) => new(t.Label, t.Kind, t.Seats, t.CanBeBooked);

    public object Columns(long? id = null) => new { Id = id, Label, Kind, Seats, CanBeBooked = CanBeBooked ?? true };
}

// A create or replace of a table: both carry the same members and obey the same rules.
public interface ITableWrite
{
    TableChanges Changes { get; }
}

public sealed class TableChangesRules : AbstractValidator<ITableWrite>
{
    public TableChangesRules()
    {
        RuleFor(x => x.Changes.Label).NotEmpty().MaximumLength(100).OverridePropertyName("label");
        RuleFor(x => x.Changes.Kind).NotEmpty().Must(k => RestaurantTables.Kinds.Contains(k))
            .WithMessage(RestaurantTables.KindMessage).OverridePropertyName("kind");
        RuleFor(x => x.Changes.Seats).NotNull().InclusiveBetween(1, 50).OverridePropertyName("seats");
    }
}

public static class RestaurantTables
{
    public const decimal MaxPrice = 1_000_000m;

    public static readonly string[] Kinds = ["regular", "cabin", "room"];

    public static readonly string KindMessage = $"kind must be one of {string.Join(", ", Kinds)}.";

    // Joins `cur.price`, the price of table `t` that holds at `@now`.
    public const string JoinCurrentPrice = """
        LEFT JOIN LATERAL (
            SELECT p.price FROM restaurant_table_prices p
            WHERE p.table_id = t.id AND p.effective_from <= @now
            ORDER BY p.effective_from DESC, p.id DESC
            LIMIT 1
        ) cur ON true
        """;

    // Selects RestaurantTable columns plus `version`; append a WHERE on `t`. Needs `@now`.
    private const string Select = $"""
        SELECT t.id, t.label::text AS label, t.kind, t.seats, cur.price, t.can_be_booked, t.xmin::text::bigint AS version
        FROM restaurant_tables t
        {JoinCurrentPrice}
        """;

    public static async Task<Versioned<RestaurantTable>?> FindAsync(NpgsqlConnection conn, long id, DateTime now, CancellationToken ct, NpgsqlTransaction? tx = null)
    {
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"{Select} WHERE t.id = @id", new { id, now }, tx, cancellationToken: ct));
        return row?.ToVersioned();
    }

    public static async Task<IReadOnlyList<RestaurantTable>> ListAsync(NpgsqlConnection conn, string whereAndOrder, object args, CancellationToken ct)
    {
        var rows = await conn.QueryAsync<Row>(new CommandDefinition($"{Select} {whereAndOrder}", args, cancellationToken: ct));
        return rows.Select(r => r.ToVersioned().Value).ToList();
    }

    // 0 to MaxPrice, in cents at most.
    public static IRuleBuilderOptions<T, decimal?> IsPrice<T>(this IRuleBuilder<T, decimal?> rule) =>
        rule.InclusiveBetween(0m, MaxPrice).PrecisionScale(10, 2, ignoreTrailingZeros: true);

    private sealed record Row(long Id, string Label, string Kind, int Seats, decimal? Price, bool CanBeBooked, long Version)
    {
        public Versioned<RestaurantTable> ToVersioned() => new(new RestaurantTable(Id, Label, Kind, Seats, Price, CanBeBooked), Version);
    }
}

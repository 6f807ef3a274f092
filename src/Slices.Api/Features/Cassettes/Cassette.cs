using Dapper;
using FluentValidation;
using Npgsql;
using Slices.Api.Common.Data;

[assembly: PgConstraint("cassettes_quantity_not_negative", 400, "validation_failed", "quantity must be 0 or more.", Field = "quantity")]
[assembly: PgConstraint("cassettes_title_length", 400, "validation_failed", "title must be 1–255 characters.", Field = "title")]
[assembly: PgConstraint("cassettes_director_length", 400, "validation_failed", "director must be 1–255 characters.", Field = "director")]

namespace Slices.Api.Features.Cassettes;

// A cassette as every catalogue route shows it.
public sealed record Cassette(long Id, string Title, string Director, DateOnly Released, int Quantity);

// What create, replace and PATCH all validate: the writable members of a cassette.
public interface ICassetteFields
{
    string? Title { get; }

    string? Director { get; }

    DateOnly? Released { get; }

    int? Quantity { get; }
}

// The rules for ICassetteFields, included by the create and replace validators.
public sealed class CassetteFieldsValidator : AbstractValidator<ICassetteFields>
{
    public const int MaxText = 255;

    // A bound well inside integer, so that returning stock to a cassette can never overflow the column.
    public const int MaxQuantity = 1_000_000;

    public CassetteFieldsValidator(TimeProvider clock)
    {
        RuleFor(x => x.Title).NotEmpty().MaximumLength(MaxText);
        RuleFor(x => x.Director).NotEmpty().MaximumLength(MaxText);
        RuleFor(x => x.Released).NotNull()
            .Must(d => d is null || d.Value <= DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime))
            .WithMessage("released must not be in the future.");
        RuleFor(x => x.Quantity).InclusiveBetween(0, MaxQuantity);
    }
}

public static class Cassettes
{
    // Selects Cassette columns plus `version` (the row's xmin, for the ETag).
    public const string Select = "SELECT c.id, c.title, c.director, c.released, c.quantity, c.xmin::text::bigint AS version FROM cassettes c";

    public static async Task<(Cassette Cassette, long Version)?> FindAsync(NpgsqlConnection conn, long id, CancellationToken ct, NpgsqlTransaction? tx = null)
    {
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"{Select} WHERE c.id = @id", new { id }, tx, cancellationToken: ct));
        return row is null ? null : (row.ToCassette(), row.Version);
    }

    public sealed record Row(long Id, string Title, string Director, DateOnly Released, int Quantity, long Version)
    {
        public Cassette ToCassette() => new(Id, Title, Director, Released, Quantity);
    }
}

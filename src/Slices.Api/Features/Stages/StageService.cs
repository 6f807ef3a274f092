using Dapper;
using FluentValidation;
using Npgsql;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

[assembly: PgConstraint("services_name_key", 409, "duplicate_name", "A service with that name already exists (names are compared case-insensitively).")]
[assembly: PgConstraint("services_name_length", 400, "invalid_name", "name must be 1–255 characters.")]
[assembly: PgConstraint("stage_services_service_id_fkey", 409, "in_use", "A stage offers this service; remove it from the stage first.")]

namespace Slices.Api.Features.Stages;

// Something a stage offers (sound, light, a piano). Shared by the service slices, which all answer with it.
public sealed record StageService(long Id, string Name);

// The body of POST and PUT, and what PATCH merges over.
public sealed record ServiceChanges(string Name)
{
    public static ServiceChanges From(StageService s) => new(s.Name);
}

// A create or replace of a service: both carry the same members and obey the same rules.
public interface IServiceWrite
{
    ServiceChanges Changes { get; }
}

// Included by the create and replace validators.
public sealed class ServiceChangesRules : AbstractValidator<IServiceWrite>
{
    public const int MaxNameLength = 255;

    public ServiceChangesRules()
    {
        RuleFor(x => x.Changes.Name).NotEmpty().MaximumLength(MaxNameLength).OverridePropertyName("name");
    }
}

public static class StageServices
{
    private const string Select = "SELECT s.id, s.name::text AS name, s.xmin::text::bigint AS version FROM services s";

    public static async Task<Versioned<StageService>?> FindAsync(NpgsqlConnection conn, long id, CancellationToken ct, NpgsqlTransaction? tx = null)
    {
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"{Select} WHERE s.id = @id", new { id }, tx, cancellationToken: ct));
        return row?.ToVersioned();
    }

    public static async Task<IReadOnlyList<StageService>> ListAsync(NpgsqlConnection conn, string whereAndOrder, object args, CancellationToken ct)
    {
        var rows = await conn.QueryAsync<Row>(new CommandDefinition($"{Select} {whereAndOrder}", args, cancellationToken: ct));
        return rows.Select(r => r.ToVersioned().Value).ToList();
    }

    private sealed record Row(long Id, string Name, long Version)
    {
        public Versioned<StageService> ToVersioned() => new(new StageService(Id, Name), Version);
    }
}

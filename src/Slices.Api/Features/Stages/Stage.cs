using System.Globalization;
using Dapper;
using FluentValidation;
using Npgsql;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

[assembly: PgConstraint("stages_opening_hours", 400, "invalid_opening_hours", "open_time must be before close_time.")]
[assembly: PgConstraint("bookings_stage_id_fkey", 409, "in_use", "The stage has bookings; delete or move them first.")]

namespace Slices.Api.Features.Stages;

// A stage as every stage route shows it. Shared by the stage slices, which all answer with it.
public sealed record Stage(long Id, string Name, string Address, string Description, TimeOnly OpenTime, TimeOnly CloseTime, long[] Services);

// The body of POST and PUT, and what PATCH merges over. Absent address/description are empty, absent services none.
public sealed record StageChanges(string Name, TimeOnly? OpenTime, TimeOnly? CloseTime, string? Address = null, string? Description = null, long[]? Services = null)
{
    public static StageChanges From(Stage s) => new(s.Name, s.OpenTime, s.CloseTime, s.Address, s.Description, s.Services);

    // The columns as stored: the validator has made sure the times are there.
    public object Columns(long? id = null) => new
    {
        Id = id,
        Name,
        Address = Address ?? string.Empty,
        Description = Description ?? string.Empty,
        OpenTime = OpenTime!.Value,
        CloseTime = CloseTime!.Value,
    };
}

// A create or replace of a stage: both carry the same members and obey the same rules.
public interface IStageWrite
{
    StageChanges Changes { get; }
}

// Included by the create and replace validators.
public sealed class StageChangesRules : AbstractValidator<IStageWrite>
{
    public StageChangesRules()
    {
        RuleFor(x => x.Changes.Name).NotEmpty().MaximumLength(255).OverridePropertyName("name");
        RuleFor(x => x.Changes.Address).MaximumLength(500).OverridePropertyName("address");
        RuleFor(x => x.Changes.Description).MaximumLength(5000).OverridePropertyName("description");
        RuleFor(x => x.Changes.OpenTime).NotNull().OverridePropertyName("open_time");
        RuleFor(x => x.Changes.CloseTime).NotNull().OverridePropertyName("close_time");
        RuleFor(x => x.Changes.CloseTime).GreaterThan(x => x.Changes.OpenTime).When(x => x.Changes.OpenTime is not null)
            .WithMessage("close_time must be after open_time.").OverridePropertyName("close_time");
        RuleFor(x => x.Changes.Services).Must(s => s is null || s.Length <= 100).WithMessage("A stage offers at most 100 services.")
            .OverridePropertyName("services");
    }
}

public static class Stages
{
    // Selects Stage columns plus `version`; append a WHERE on `s`.
    private const string Select = """
        SELECT s.id, s.name, s.address, s.description, s.open_time, s.close_time,
               ARRAY(SELECT ss.service_id FROM stage_services ss WHERE ss.stage_id = s.id ORDER BY ss.service_id) AS services,
               s.xmin::text::bigint AS version
        FROM stages s
        """;

    public static async Task<Versioned<Stage>?> FindAsync(NpgsqlConnection conn, long id, CancellationToken ct, NpgsqlTransaction? tx = null)
    {
        var rows = await conn.QueryPreparedAsync<Row>($"{Select} WHERE s.id = @id", tx, ct, new NpgsqlParameter<long>("id", id));
        return rows.SingleOrDefault()?.ToVersioned();
    }

    public static async Task<IReadOnlyList<Stage>> ListAsync(NpgsqlConnection conn, string whereAndOrder, object args, CancellationToken ct)
    {
        var rows = await conn.QueryAsync<Row>(new CommandDefinition($"{Select} {whereAndOrder}", args, cancellationToken: ct));
        return rows.Select(r => r.ToVersioned().Value).ToList();
    }

    // Share-locks the services a stage is to offer, so none can be deleted before the links exist; ids that do not
    // exist are a 400 naming them, which the caller just returns (a failed Result rolls back what it wrote).
    public static async Task<Failure?> LockServicesAsync(NpgsqlConnection conn, NpgsqlTransaction tx, StageChanges changes, CancellationToken ct)
    {
        const string lockServices = "SELECT id FROM services WHERE id = ANY (@ids) ORDER BY id FOR KEY SHARE";
        var ids = ServiceIds(changes);
        var found = await conn.QueryAsync<long>(new CommandDefinition(lockServices, new { ids }, tx, cancellationToken: ct));
        var missing = ids.Except(found).ToArray();
        return missing.Length == 0
            ? null
            : new Failure(400, "unknown_service", "One or more services do not exist.", new Dictionary<string, string[]>
            {
                ["services"] = [$"Unknown service ids: {string.Join(", ", missing.Select(m => m.ToString(CultureInfo.InvariantCulture)))}."],
            });
    }

    // Makes the stage offer exactly the services of changes, locked by LockServicesAsync.
    public static async Task LinkServicesAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long stageId, StageChanges changes, CancellationToken ct)
    {
        const string link = """
            DELETE FROM stage_services WHERE stage_id = @stageId AND service_id <> ALL (@ids);
            INSERT INTO stage_services (stage_id, service_id) SELECT @stageId, unnest(@ids) ON CONFLICT DO NOTHING;
            """;
        await conn.ExecuteAsync(new CommandDefinition(link, new { stageId, ids = ServiceIds(changes) }, tx, cancellationToken: ct));
    }

    private static long[] ServiceIds(StageChanges changes) => (changes.Services ?? []).Distinct().ToArray();

    private sealed record Row(long Id, string Name, string Address, string Description, TimeOnly OpenTime, TimeOnly CloseTime, long[] Services, long Version)
    {
        public Versioned<Stage> ToVersioned() => new(new Stage(Id, Name, Address, Description, OpenTime, CloseTime, Services), Version);
    }
}

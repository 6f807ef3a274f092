using Dapper;
using Npgsql;

namespace Slices.Api.Features.Trainings;

// A training group as every group route shows it.
public sealed record TrainingGroup(long Id, string Name, string Description);

// A member of a group as the members list shows it: public names only, no contact details.
public sealed record GroupMember(long Id, string? Username, string FirstName, string LastName, string ThirdName);

public static class TrainingGroups
{
    public static async Task<(TrainingGroup Group, long Version)?> FindAsync(NpgsqlConnection conn, long id, CancellationToken ct, NpgsqlTransaction? tx = null)
    {
        const string sql = "SELECT id, name, description, xmin::text::bigint AS version FROM groups WHERE id = @id";
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(sql, new { id }, tx, cancellationToken: ct));
        return row is null ? null : (new TrainingGroup(row.Id, row.Name, row.Description), row.Version);
    }

    // Selects GroupMember columns of `users u`; append joins and a WHERE.
    public const string SelectMember = "SELECT u.id, u.username::text, u.first_name, u.last_name, u.third_name FROM users u";

    private sealed record Row(long Id, string Name, string Description, long Version);
}

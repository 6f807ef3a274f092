using Dapper;
using FluentValidation;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

[assembly: PgConstraint("organization_members_user_id_fkey", 400, "unknown_user", "A user in 'users' does not exist.")]
[assembly: PgConstraint("organizations_title_length", 400, "validation_failed", "title must be 1–255 characters.", Field = "title")]

namespace Slices.Api.Features.Events;

// An organization as every organization route shows it; `users` are all its members' ids.
public sealed record OrganizationView(long Id, string Title, string? Description, string? Address, string? Postcode, string? FullAddress, long[] Users);

// The writable members of an organization, as create and replace take them.
public interface IOrganizationFields
{
    string Title { get; }

    string? Description { get; }

    string? Address { get; }

    string? Postcode { get; }

    long[]? Users { get; }
}

// The rules create and replace share (included by their validators).
public sealed class OrganizationFieldsValidator : AbstractValidator<IOrganizationFields>
{
    public OrganizationFieldsValidator()
    {
        RuleFor(x => x.Title).NotEmpty().MaximumLength(Organizations.MaxTitle);
        RuleFor(x => x.Description).MaximumLength(Organizations.MaxDescription);
        RuleFor(x => x.Address).MaximumLength(Organizations.MaxAddress);
        RuleFor(x => x.Postcode).MaximumLength(Organizations.MaxPostcode);
        RuleFor(x => x.Users).Must(u => u is null || u.Length <= Organizations.MaxUsers).WithMessage($"users may list at most {Organizations.MaxUsers} ids.");
    }
}

// What the organization slices share: reading one, the write rule (admin or a member), field limits.
public static class Organizations
{
    public const int MaxTitle = 255;
    public const int MaxDescription = 10_000;
    public const int MaxAddress = 500;
    public const int MaxPostcode = 20;
    public const int MaxUsers = 1_000;

    // Selects OrganizationView columns plus `version`; append a WHERE on `o`.
    private const string Select = """
        SELECT o.id, o.title, o.description, o.address, o.postcode,
               ARRAY(SELECT om.user_id FROM organization_members om WHERE om.organization_id = o.id ORDER BY om.user_id) AS users,
               o.xmin::text::bigint AS version
        FROM organizations o
        """;

    // Membership lives in another table, so a membership change also rewrites the organization row: its
    // version (the ETag) then covers `users`, and concurrent membership changes queue on the row lock.
    public const string Touch = $"UPDATE organizations SET title = title WHERE id = @Id AND {ETags.Guard}";

    private const string SetMembers = """
        DELETE FROM organization_members WHERE organization_id = @Id AND user_id <> ALL (@Users);
        INSERT INTO organization_members (organization_id, user_id) SELECT @Id, u FROM unnest(@Users) AS u ON CONFLICT DO NOTHING;
        """;

    // `"<postcode>, <address>"` of whichever parts are there; null when neither is.
    public static string? FullAddress(string? postcode, string? address)
    {
        var parts = new[] { postcode, address }.Where(p => !string.IsNullOrWhiteSpace(p)).Select(p => p!.Trim()).ToArray();
        return parts.Length == 0 ? null : string.Join(", ", parts);
    }

    public static async Task<Versioned<OrganizationView>?> FindAsync(NpgsqlConnection conn, long id, CancellationToken ct, NpgsqlTransaction? tx = null)
    {
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition($"{Select} WHERE o.id = @id", new { id }, tx, cancellationToken: ct));
        return row is null ? null : new Versioned<OrganizationView>(row.ToView(), row.Version);
    }

    public static async Task<IReadOnlyList<OrganizationView>> ListAsync(NpgsqlConnection conn, string whereAndOrder, object args, CancellationToken ct)
    {
        var rows = await conn.QueryAsync<Row>(new CommandDefinition($"{Select} {whereAndOrder}", args, cancellationToken: ct));
        return rows.Select(r => r.ToView()).ToList();
    }

    // Admin or a member may change an organization (404 when it does not exist, 403 otherwise: every signed-in user
    // can see organizations, so 403 reveals nothing). The row is locked first, so a membership change running
    // concurrently has committed before membership is read.
    public static async Task<Failure?> AuthorizeWriteAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long id, Caller caller, CancellationToken ct)
    {
        var exists = await conn.ExecuteScalarAsync<long?>(new CommandDefinition(
            "SELECT id FROM organizations WHERE id = @id FOR UPDATE", new { id }, tx, cancellationToken: ct));
        if (exists is null)
        {
            return Failure.NotFound("Organization");
        }

        var member = caller.IsAdmin || await conn.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM organization_members WHERE organization_id = @id AND user_id = @user)",
            new { id, user = caller.Id }, tx, cancellationToken: ct));
        return member ? null : Failure.Forbidden("Only an admin or a member of the organization may change it.");
    }

    // Makes users the organization's members (unknown ids: 400 unknown_user, by the foreign key).
    public static Task SetMembersAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long id, IEnumerable<long> users, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(SetMembers, new { Id = id, Users = users.Distinct().ToArray() }, tx, cancellationToken: ct));

    private sealed record Row(long Id, string Title, string? Description, string? Address, string? Postcode, long[] Users, long Version)
    {
        public OrganizationView ToView() => new(Id, Title, Description, Address, Postcode, FullAddress(Postcode, Address), Users);
    }
}

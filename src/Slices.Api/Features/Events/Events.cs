using System.Data;
using Dapper;
using Npgsql;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

[assembly: PgConstraint("event_organizations_organization_id_fkey", 400, "unknown_organization", "An organization in 'organizations' does not exist.")]
[assembly: PgConstraint("events_title_length", 400, "validation_failed", "title must be 1–255 characters.", Field = "title")]

namespace Slices.Api.Features.Events;

// An event in a list: its organizations as ids.
public sealed record EventItem(long Id, string Title, string? Description, DateOnly? Date, string? ImageUrl, long[] Organizations);

// One event with every organizing organization and each one's active members.
public sealed record EventDetail(long Id, string Title, string? Description, DateOnly? Date, string? ImageUrl, IReadOnlyList<EventOrganizer> Organizations);

public sealed record EventOrganizer(long Id, string Title, string? Description, string? FullAddress, IReadOnlyList<EventOrganizerMember> Users);

public sealed record EventOrganizerMember(long Id, string? Username, string? Email, string? PhoneNumber, string FirstName, string LastName);

// What the event slices share: limits, the detail read, organizer links, the version behind the ETag.
public static class Events
{
    public const int MaxTitle = 255;
    public const int MaxDescription = 10_000;
    public const int MaxOrganizations = 100;

    // The version of an event's detail (its ETag), over `e`: the event row and every organizer's row (whose
    // version covers its membership) and its active members' rows, so a renamed organization or a deactivated member
    // changes the ETag too. Non-negative, as ETags are written.
    public const string Version = """
        (hashtextextended(e.xmin::text || '|' || coalesce((
            SELECT string_agg(o.id::text || ':' || o.xmin::text || ':' || coalesce((
                       SELECT string_agg(u.id::text || '.' || u.xmin::text, ',' ORDER BY u.id)
                       FROM organization_members om JOIN users u ON u.id = om.user_id
                       WHERE om.organization_id = o.id AND u.is_active), ''), ';' ORDER BY o.id)
            FROM event_organizations eo JOIN organizations o ON o.id = eo.organization_id
            WHERE eo.event_id = e.id), ''), 0) & 9223372036854775807)
        """;

    // The If-Match condition for a write on `events e` (`@IfMatch` null matches any version).
    public const string Guard = $"(@IfMatch::bigint IS NULL OR {Version} = @IfMatch)";

    private const string SetOrganizers = """
        DELETE FROM event_organizations WHERE event_id = @Id AND organization_id <> ALL (@Organizations);
        INSERT INTO event_organizations (event_id, organization_id)
        SELECT @Id, o FROM unnest(@Organizations) AS o ON CONFLICT DO NOTHING;
        """;

    private const string Detail = $"""
        SELECT e.id, e.title, e.description, e.date, e.image, {Version} AS version FROM events e WHERE e.id = @id;

        SELECT o.id, o.title, o.description, o.postcode, o.address
        FROM event_organizations eo JOIN organizations o ON o.id = eo.organization_id
        WHERE eo.event_id = @id
        ORDER BY o.id;

        SELECT om.organization_id, u.id, u.username::text, u.email::text, u.phone_number, u.first_name, u.last_name
        FROM event_organizations eo
        JOIN organization_members om ON om.organization_id = eo.organization_id
        JOIN users u ON u.id = om.user_id
        WHERE eo.event_id = @id AND u.is_active
        ORDER BY om.organization_id, u.id;
        """;

    // Makes organizations the event's organizers, dropping the others.
    public static Task SetOrganizersAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long id, IEnumerable<long> organizations, CancellationToken ct) =>
        conn.ExecuteAsync(new CommandDefinition(SetOrganizers, new { Id = id, Organizations = organizations.Distinct().ToArray() }, tx, cancellationToken: ct));

    // The detail in one round trip of three statements (event, organizers, their active members), never one query per
    // organization or member. Outside a transaction the three read one snapshot, so the version matches the content.
    public static async Task<Versioned<EventDetail>?> FindAsync(NpgsqlConnection conn, long id, CancellationToken ct, NpgsqlTransaction? tx = null)
    {
        var own = tx is null ? await conn.BeginTransactionAsync(IsolationLevel.RepeatableRead, ct) : null;
        try
        {
            await using var reader = await conn.QueryMultipleAsync(new CommandDefinition(Detail, new { id }, tx ?? own, cancellationToken: ct));
            var row = await reader.ReadSingleOrDefaultAsync<EventRow>();
            if (row is null)
            {
                return null;
            }

            var organizers = (await reader.ReadAsync<OrganizerRow>()).ToList();
            var members = (await reader.ReadAsync<MemberRow>()).ToLookup(m => m.OrganizationId, m => m.ToMember());
            var detail = new EventDetail(row.Id, row.Title, row.Description, row.Date, Media.Url(row.Image),
                organizers.Select(o => new EventOrganizer(o.Id, o.Title, o.Description, Organizations.FullAddress(o.Postcode, o.Address), members[o.Id].ToList())).ToList());
            return new Versioned<EventDetail>(detail, row.Version);
        }
        finally
        {
            if (own is not null)
            {
                await own.DisposeAsync();
            }
        }
    }

    private sealed record EventRow(long Id, string Title, string? Description, DateOnly? Date, string? Image, long Version);

    private sealed record OrganizerRow(long Id, string Title, string? Description, string? Postcode, string? Address);

    private sealed record MemberRow(long OrganizationId, long Id, string? Username, string? Email, string? PhoneNumber, string FirstName, string LastName)
    {
        public EventOrganizerMember ToMember() => new(Id, Username, Email, PhoneNumber, FirstName, LastName);
    }
}

using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Events;

// Events with title search, a date or an inclusive date range, one organizer, and ordering by date (ties by id;
// undated events sort last for `date` and first for `-date`, as PostgreSQL orders nulls, so that one
// (date, id) index serves both directions). Without `ordering` the order is by id.
public static class ListEvents
{
    private static readonly Dictionary<string, string> OrderBy = new(StringComparer.Ordinal)
    {
        ["date"] = "e.date, e.id",
        ["-date"] = "e.date DESC, e.id DESC",
    };

    public sealed record ListEventsQuery(
        string? Search, string? Ordering, DateOnly? Date, DateOnly? DateGte, DateOnly? DateLte, long? Organization, int? Limit, int? Offset)
        : IQuery<Page<EventItem>>, IPagedQuery;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/events",
                async Task<Ok<IReadOnlyList<EventItem>>> (HttpContext http, ISender mediator, CancellationToken ct,
                    string? search, string? ordering, DateOnly? date,
                    [FromQuery(Name = "date__gte")] DateOnly? date__gte, [FromQuery(Name = "date__lte")] DateOnly? date__lte,
                    long? organization, int? limit, int? offset) =>
                {
                    var query = new ListEventsQuery(search, ordering, date, date__gte, date__lte, organization, limit, offset);
                    return Paging.Ok(http, query, await mediator.Send(query, ct));
                })
            .WithName("ListEvents").WithTags("Events")
            .WithSummary("Events: ?search= (title), ?date=, ?date__gte=, ?date__lte= (inclusive), ?organization=, ?ordering=date|-date")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
    }

    public sealed class Validator : AbstractValidator<ListEventsQuery>
    {
        public Validator()
        {
            RuleFor(x => x.Search).MaximumLength(200);
            RuleFor(x => x.Ordering).Must(o => o is null || OrderBy.ContainsKey(o))
                .WithMessage($"ordering must be one of {string.Join(", ", OrderBy.Keys)}.");
        }
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<ListEventsQuery, Page<EventItem>>
    {
        private const string Select = """
            SELECT e.id, e.title, e.description, e.date, e.image,
                   ARRAY(SELECT eo.organization_id FROM event_organizations eo WHERE eo.event_id = e.id ORDER BY eo.organization_id) AS organizations
            FROM events e
            """;

        // Only the filters given go into the WHERE (each a constant; values are parameters). "@x IS NULL OR …" would
        // keep PostgreSQL from turning ?organization= into a join: measured at a million events, the count went
        // from a 60 ms parallel scan to 1 ms through event_organizations (organization_id, event_id).
        private static string Filter(ListEventsQuery q)
        {
            string?[] conditions =
            [
                q.Search is null ? null : "e.title ILIKE @pattern",
                q.Date is null ? null : "e.date = @date",
                q.DateGte is null ? null : "e.date >= @dateGte",
                q.DateLte is null ? null : "e.date <= @dateLte",
                q.Organization is null ? null : "e.id IN (SELECT eo.event_id FROM event_organizations eo WHERE eo.organization_id = @organization)",
            ];
            var given = conditions.OfType<string>().ToList();
            return given.Count == 0 ? string.Empty : "WHERE " + string.Join(" AND ", given);
        }

        public async ValueTask<Page<EventItem>> Handle(ListEventsQuery q, CancellationToken ct)
        {
            var filter = Filter(q);
            var order = q.Ordering is null ? "e.id" : OrderBy[q.Ordering];
            var args = new
            {
                search = q.Search,
                pattern = q.Search is null ? null : LikePattern.Contains(q.Search),
                date = q.Date,
                dateGte = q.DateGte,
                dateLte = q.DateLte,
                organization = q.Organization,
                limit = q.LimitOf(),
                offset = q.OffsetOf(),
            };
            await using var conn = await db.OpenConnectionAsync(ct);
            var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) FROM events e {filter}", args, cancellationToken: ct));
            // The page's ids first (an index-only walk past the offset), then the rows and their organizations for those
            // ids only: projecting before the OFFSET cost 0.7 s at offset 500,000 of a million events, this 40 ms.
            var page = $"SELECT e.id FROM events e {filter} ORDER BY {order} LIMIT @limit OFFSET @offset";
            var rows = await conn.QueryAsync<Row>(new CommandDefinition(
                $"{Select} JOIN ({page}) page ON page.id = e.id ORDER BY {order}", args, cancellationToken: ct));
            return new Page<EventItem>(rows.Select(r => new EventItem(r.Id, r.Title, r.Description, r.Date, Media.Url(r.Image), r.Organizations)).ToList(), total);
        }
    }

    private sealed record Row(long Id, string Title, string? Description, DateOnly? Date, string? Image, long[] Organizations);
}

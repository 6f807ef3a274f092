using System.Security.Claims;
using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Slices.Api.Common.Data;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Restaurant;

public static class SearchTables
{
    // At with DurationMinutes: keep tables with no confirmed reservation in that window.
    public sealed record SearchTablesQuery(
        bool IsAdmin, string? Kind, int? Seats, decimal? PriceMin, decimal? PriceMax, DateTimeOffset? At, int? DurationMinutes, int? Limit, int? Offset)
        : IQuery<Page<RestaurantTable>>, IPagedQuery;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/restaurant/tables",
                async Task<Ok<IReadOnlyList<RestaurantTable>>> (HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct,
                    string? kind, int? seats, [FromQuery(Name = "price_min")] decimal? priceMin, [FromQuery(Name = "price_max")] decimal? priceMax,
                    DateTimeOffset? at, [FromQuery(Name = "duration_minutes")] int? durationMinutes, int? limit, int? offset) =>
                {
                    var query = new SearchTablesQuery(user.IsAdmin(), kind, seats, priceMin, priceMax, at, durationMinutes, limit, offset);
                    return Paging.Ok(http, query, await mediator.Send(query, ct));
                })
            .WithName("SearchRestaurantTables").ReadsFromStandby().WithTags("Restaurant")
            .WithSummary("Tables by id with the price that holds now; ?kind=, ?seats= (at least), ?price_min=, ?price_max=, ?at=&duration_minutes= (no confirmed reservation then). Closed tables only for admins")
            .AllowAnonymous()
            .ProducesProblem(StatusCodes.Status400BadRequest);
    }

    public sealed class Validator : AbstractValidator<SearchTablesQuery>
    {
        public Validator()
        {
            RuleFor(x => x.Kind).Must(k => k is null || RestaurantTables.Kinds.Contains(k)).WithMessage(RestaurantTables.KindMessage);
            RuleFor(x => x.Seats).InclusiveBetween(1, 50);
            RuleFor(x => x.PriceMin).GreaterThanOrEqualTo(0);
            RuleFor(x => x.PriceMax).GreaterThanOrEqualTo(x => x.PriceMin ?? 0).WithMessage("price_max must not be below price_min or 0.");
            RuleFor(x => x.DurationMinutes).InclusiveBetween(RequestReservation.MinDurationMinutes, RequestReservation.MaxDurationMinutes);
            RuleFor(x => x.At).NotNull().When(x => x.DurationMinutes is not null).WithMessage("duration_minutes needs at.");
            RuleFor(x => x.At).Must(a => a is null || a.Value.Year is >= 2000 and <= 9000).WithMessage("at must be between the years 2000 and 9000.");
        }
    }

    // May be a moment stale: reads from a standby when one is configured (ReadReplicas). Booking itself checks
    // availability on the primary, under the exclusion constraint.
    public sealed class Handler(ReadReplicas replicas, TimeProvider clock) : IQueryHandler<SearchTablesQuery, Page<RestaurantTable>>
    {
        // The free-at-time test is the exclusion constraint's own question, answered from its gist index: confirmed
        // reservations, and holds (placeholders, db/0020) whose time is not up.
        private const string Filter = """
            WHERE (@admin OR t.can_be_booked)
              AND (@kind::text IS NULL OR t.kind = @kind)
              AND (@seats::integer IS NULL OR t.seats >= @seats)
              AND (@priceMin::numeric IS NULL OR cur.price >= @priceMin)
              AND (@priceMax::numeric IS NULL OR cur.price <= @priceMax)
              AND (@at::timestamptz IS NULL OR NOT EXISTS (
                    SELECT 1 FROM restaurant_reservations r
                    WHERE r.table_id = t.id AND r.status IN ('confirmed', 'held')
                      AND (r.hold_id IS NULL OR EXISTS (SELECT 1 FROM holds h WHERE h.id = r.hold_id AND h.expires_at > @now))
                      AND tstzrange(r.starts_at, r.ends_at, '[)') && tstzrange(@at, @until, '[)')))
            """;

        public async ValueTask<Page<RestaurantTable>> Handle(SearchTablesQuery q, CancellationToken ct)
        {
            var at = q.At?.UtcDateTime;
            var args = new
            {
                admin = q.IsAdmin,
                kind = q.Kind,
                seats = q.Seats,
                priceMin = q.PriceMin,
                priceMax = q.PriceMax,
                at,
                until = at?.AddMinutes(q.DurationMinutes ?? RequestReservation.DefaultDurationMinutes),
                now = clock.GetUtcNow().UtcDateTime,
                limit = q.LimitOf(),
                offset = q.OffsetOf(),
            };
            return await replicas.ReadAsync(async conn =>
            {
                var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition(
                    $"SELECT count(*) FROM restaurant_tables t {RestaurantTables.JoinCurrentPrice} {Filter}", args, cancellationToken: ct));
                var items = await RestaurantTables.ListAsync(conn, $"{Filter} ORDER BY t.id LIMIT @limit OFFSET @offset", args, ct);
                return new Page<RestaurantTable>(items, total);
            }, ct);
        }
    }
}

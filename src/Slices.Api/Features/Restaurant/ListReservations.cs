using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Restaurant;

public static class ListReservations
{
    // Date: reservations starting that day in the restaurant's time zone. Active: pending or confirmed and not yet ended.
    public sealed record ListReservationsQuery(string? Status, DateOnly? Date, bool? Active, long? Table, int? Limit, int? Offset)
        : IQuery<Page<Reservation>>, IPagedQuery;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/restaurant/reservations",
                async Task<Ok<IReadOnlyList<Reservation>>> (HttpContext http, ISender mediator, CancellationToken ct,
                    string? status, DateOnly? date, bool? active, long? table, int? limit, int? offset) =>
                {
                    var query = new ListReservationsQuery(status, date, active, table, limit, offset);
                    return Paging.Ok(http, query, await mediator.Send(query, ct));
                })
            .WithName("ListReservations").WithTags("Restaurant")
            .WithSummary("Reservations by start; ?status=, ?date= (starting that day, restaurant time), ?active=true (pending or confirmed, not yet ended), ?table=")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
    }

    public sealed class Validator : AbstractValidator<ListReservationsQuery>
    {
        public Validator()
        {
            RuleFor(x => x.Status).Must(s => s is null || ReservationStatus.All.Contains(s))
                .WithMessage($"status must be one of {string.Join(", ", ReservationStatus.All)}.");
            RuleFor(x => x.Date).Must(d => d is null || d.Value.Year is >= 2000 and <= 9000).WithMessage("date must be between the years 2000 and 9000.");
        }
    }

    public sealed class Handler(NpgsqlDataSource db, IOptions<RestaurantOptions> options, TimeProvider clock) : IQueryHandler<ListReservationsQuery, Page<Reservation>>
    {
        private const string Active = "r.status IN ('pending', 'confirmed') AND r.ends_at > @now";

        // Only the filters given, so that PostgreSQL can pick the index that serves them (measured: see the README).
        private static string Filter(ListReservationsQuery q)
        {
            var conditions = new List<string> { Reservations.NotHeld };
            if (q.Status is not null)
            {
                conditions.Add("r.status = @status");
            }

            if (q.Date is not null)
            {
                conditions.Add("r.starts_at >= @dayStart AND r.starts_at < @dayEnd");
            }

            if (q.Active is { } active)
            {
                conditions.Add(active ? Active : $"NOT ({Active})");
            }

            if (q.Table is not null)
            {
                conditions.Add("r.table_id = @table");
            }

            return conditions.Count == 0 ? "" : "WHERE " + string.Join(" AND ", conditions);
        }

        public async ValueTask<Page<Reservation>> Handle(ListReservationsQuery q, CancellationToken ct)
        {
            var zone = options.Value.Zone();
            var args = new
            {
                status = q.Status,
                dayStart = q.Date is { } d ? StartOfDay(d, zone) : (DateTime?)null,
                dayEnd = q.Date is { } e ? StartOfDay(e.AddDays(1), zone) : (DateTime?)null,
                active = q.Active,
                table = q.Table,
                now = clock.GetUtcNow().UtcDateTime,
                limit = q.LimitOf(),
                offset = q.OffsetOf(),
            };
            var filter = Filter(q);
            await using var conn = await db.OpenConnectionAsync(ct);
            var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) FROM restaurant_reservations r {filter}", args, cancellationToken: ct));
            var items = await conn.QueryAsync<Reservation>(new CommandDefinition(
                $"SELECT {Reservations.Columns} FROM restaurant_reservations r {filter} ORDER BY r.starts_at, r.id LIMIT @limit OFFSET @offset", args, cancellationToken: ct));
            return new Page<Reservation>(items.ToList(), total);
        }

        // The first instant of day in zone (past a DST gap at midnight), in UTC.
        private static DateTime StartOfDay(DateOnly day, TimeZoneInfo zone)
        {
            var local = day.ToDateTime(TimeOnly.MinValue);
            while (zone.IsInvalidTime(local))
            {
                local = local.AddMinutes(15);
            }

            return TimeZoneInfo.ConvertTimeToUtc(local, zone);
        }
    }
}

using System.Security.Claims;
using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Stages;

public static class ListBookings
{
    public sealed record ListBookingsQuery(Caller Caller, long? Stage, DateOnly? Date, DateOnly? DateFrom, DateOnly? DateTo, bool? Active, int? Limit, int? Offset)
        : IQuery<Page<Booking>>, IPagedQuery;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/bookings",
                async Task<Ok<IReadOnlyList<Booking>>> (HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct,
                    long? stage, DateOnly? date, [FromQuery(Name = "date_from")] DateOnly? dateFrom, [FromQuery(Name = "date_to")] DateOnly? dateTo,
                    bool? active, int? limit, int? offset) =>
                {
                    var query = new ListBookingsQuery(user.Caller(), stage, date, dateFrom, dateTo, active, limit, offset);
                    return Paging.Ok(http, query, await mediator.Send(query, ct));
                })
            .WithName("ListBookings").WithTags("Stages")
            .WithSummary("Your bookings (admin: all) by date and time; filters ?stage=, ?date=, ?date_from=, ?date_to= (inclusive), ?active=")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
    }

    public sealed class Validator : AbstractValidator<ListBookingsQuery>
    {
        public Validator() => RuleFor(x => x.DateTo).GreaterThanOrEqualTo(x => x.DateFrom)
            .When(x => x.DateFrom is not null && x.DateTo is not null).WithMessage("date_to must not be before date_from.");
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<ListBookingsQuery, Page<Booking>>
    {
        private const string Filter = $"""
            WHERE {Bookings.Visible}
              AND (@stage::bigint IS NULL OR b.stage_id = @stage)
              AND (@date::date IS NULL OR b.date = @date)
              AND (@dateFrom::date IS NULL OR b.date >= @dateFrom)
              AND (@dateTo::date IS NULL OR b.date <= @dateTo)
              AND (@active::boolean IS NULL OR b.active = @active)
            """;

        public async ValueTask<Page<Booking>> Handle(ListBookingsQuery q, CancellationToken ct)
        {
            var args = new
            {
                admin = q.Caller.IsAdmin,
                caller = q.Caller.Id,
                stage = q.Stage,
                date = q.Date,
                dateFrom = q.DateFrom,
                dateTo = q.DateTo,
                active = q.Active,
                limit = q.LimitOf(),
                offset = q.OffsetOf(),
            };
            await using var conn = await db.OpenConnectionAsync(ct);
            var total = await conn.ExecuteScalarAsync<long>(new CommandDefinition($"SELECT count(*) FROM bookings b {Filter}", args, cancellationToken: ct));
            var items = await Bookings.ListAsync(conn, $"{Filter} ORDER BY b.date, b.start_time, b.id LIMIT @limit OFFSET @offset", args, ct);
            return new Page<Booking>(items, total);
        }
    }
}

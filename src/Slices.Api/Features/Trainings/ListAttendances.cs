using Carter;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Trainings;

public static class ListAttendances
{
    public sealed record ListAttendancesQuery(long? Training, long? User, string? Status, DateOnly? DateFrom, DateOnly? DateTo, int? Limit, int? Offset)
        : IQuery<Page<Attendance>>, IPagedQuery, IPeriodQuery;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/attendances",
                async Task<Ok<IReadOnlyList<Attendance>>> (HttpContext http, ISender mediator, CancellationToken ct,
                    long? training, long? user, string? status, [FromQuery(Name = "date_from")] DateOnly? dateFrom, [FromQuery(Name = "date_to")] DateOnly? dateTo,
                    int? limit, int? offset) =>
                {
                    var query = new ListAttendancesQuery(training, user, status, dateFrom, dateTo, limit, offset);
                    return Paging.Ok(http, query, await mediator.Send(query, ct));
                })
            .WithName("ListAttendances").WithTags("Attendances")
            .WithSummary("Attendance records by training date; ?training=, ?user=, ?status=, ?date_from=&date_to= inclusive")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
    }

    public sealed class Validator : AbstractValidator<ListAttendancesQuery>
    {
        public Validator()
        {
            RuleFor(x => x.Status).KnownStatus();
            this.PeriodRules();
        }
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<ListAttendancesQuery, Page<Attendance>>
    {
        private const string Filter = $"""
            (@Training::bigint IS NULL OR a.training_id = @Training) AND (@User::bigint IS NULL OR a.user_id = @User)
            AND (@Status::text IS NULL OR a.status = @Status) AND {Period.Sql}
            """;

        public async ValueTask<Page<Attendance>> Handle(ListAttendancesQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await Attendances.PageAsync(conn, Filter, new { q.Training, q.User, q.Status, q.DateFrom, q.DateTo, limit = q.LimitOf(), offset = q.OffsetOf() }, ct);
        }
    }
}

using System.Security.Claims;
using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Npgsql;
using Slices.Api.Common.Auth;

namespace Slices.Api.Features.Trainings;

// Your trainings in a period, counted: `trainings` are those you were enrolled in or marked for,
// `attended`/`missed`/`excused` count your attendance records, and `total_price` is the sum
// of the prices of the trainings you attended.
public static class AttendanceSummary
{
    public sealed record AttendanceSummaryResponse(long Trainings, long Attended, long Missed, long Excused, decimal TotalPrice);

    public sealed record AttendanceSummaryQuery(long UserId, DateOnly? DateFrom, DateOnly? DateTo) : IQuery<AttendanceSummaryResponse>, IPeriodQuery;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/attendances/me/summary",
                async Task<Ok<AttendanceSummaryResponse>> (ClaimsPrincipal user, ISender mediator, CancellationToken ct,
                    [FromQuery(Name = "date_from")] DateOnly? dateFrom, [FromQuery(Name = "date_to")] DateOnly? dateTo) =>
                    TypedResults.Ok(await mediator.Send(new AttendanceSummaryQuery(user.UserId(), dateFrom, dateTo), ct)))
            .WithName("MyAttendanceSummary").WithTags("Attendances")
            .WithSummary("Counts of your trainings and attendance, and the total price of the trainings you attended; ?date_from=&date_to= inclusive")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized);
    }

    public sealed class Validator : AbstractValidator<AttendanceSummaryQuery>
    {
        public Validator() => this.PeriodRules();
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<AttendanceSummaryQuery, AttendanceSummaryResponse>
    {
        // Starts from the user's own rows (the user_id indexes of enrolments and records), each training once, and joins
        // their trainings, rather than filtering every training in the period (every training at all without one).
        private const string Summary = $"""
            WITH mine AS (
                SELECT training_id FROM training_enrollments WHERE user_id = @UserId
                UNION
                SELECT training_id FROM attendances WHERE user_id = @UserId)
            SELECT count(*) AS trainings,
                   count(*) FILTER (WHERE a.status = 'attended') AS attended,
                   count(*) FILTER (WHERE a.status = 'missed') AS missed,
                   count(*) FILTER (WHERE a.status = 'excused') AS excused,
                   coalesce(sum(t.price) FILTER (WHERE a.status = 'attended'), 0) AS total_price
            FROM mine m
            JOIN trainings t ON t.id = m.training_id
            LEFT JOIN attendances a ON a.training_id = m.training_id AND a.user_id = @UserId
            WHERE {Period.Sql}
            """;

        public async ValueTask<AttendanceSummaryResponse> Handle(AttendanceSummaryQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await conn.QuerySingleAsync<AttendanceSummaryResponse>(new CommandDefinition(Summary, q, cancellationToken: ct));
        }
    }
}

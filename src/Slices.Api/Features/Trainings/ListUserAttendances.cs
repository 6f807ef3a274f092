using System.Globalization;
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

namespace Slices.Api.Features.Trainings;

// One user's attendance records: `/api/attendances/me`, and `/api/users/{id}/attendances` for admins or yourself.
public static class ListUserAttendances
{
    // UserId null means the caller; anyone else's records are only for admins (404 otherwise).
    public sealed record ListUserAttendancesQuery(long? UserId, Caller Caller, DateOnly? DateFrom, DateOnly? DateTo, int? Limit, int? Offset)
        : IQuery<Result<Page<Attendance>>>, IPagedQuery, IPeriodQuery;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            app.MapGet("/api/attendances/me", ListAsync)
                .WithName("ListMyAttendances").WithTags("Attendances")
                .WithSummary("Your attendance records by training date; ?date_from=&date_to= inclusive")
                .RequireAuthorization()
                .ProducesProblem(StatusCodes.Status400BadRequest)
                .ProducesProblem(StatusCodes.Status401Unauthorized);
            // {id} is the numeric user id; the extra segment keeps this apart from /api/users/{username}.
            app.MapGet("/api/users/{id:long}/attendances", ListAsync)
                .WithName("ListUserAttendances").WithTags("Attendances")
                .WithSummary("A user's attendance records (admin, or yourself); ?date_from=&date_to= inclusive")
                .RequireAuthorization()
                .ProducesProblem(StatusCodes.Status400BadRequest)
                .ProducesProblem(StatusCodes.Status401Unauthorized)
                .ProducesProblem(StatusCodes.Status404NotFound);
        }

        // Both routes: `/me` has no `id` route value, which means the caller.
        private static async Task<Results<Ok<IReadOnlyList<Attendance>>, ProblemHttpResult>> ListAsync(
            HttpContext http, ClaimsPrincipal user, ISender mediator,
            [FromQuery(Name = "date_from")] DateOnly? dateFrom, [FromQuery(Name = "date_to")] DateOnly? dateTo, int? limit, int? offset, CancellationToken ct)
        {
            long? id = http.GetRouteValue("id") is string value ? long.Parse(value, CultureInfo.InvariantCulture) : null;
            var query = new ListUserAttendancesQuery(id, user.Caller(), dateFrom, dateTo, limit, offset);
            return (await mediator.Send(query, ct)).ToHttp(page => Paging.Ok(http, query, page));
        }
    }

    public sealed class Validator : AbstractValidator<ListUserAttendancesQuery>
    {
        public Validator() => this.PeriodRules();
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<ListUserAttendancesQuery, Result<Page<Attendance>>>
    {
        private const string UserExists = "SELECT EXISTS (SELECT 1 FROM users WHERE id = @id)";

        public async ValueTask<Result<Page<Attendance>>> Handle(ListUserAttendancesQuery q, CancellationToken ct)
        {
            var userId = q.UserId ?? q.Caller.Id;
            await using var conn = await db.OpenConnectionAsync(ct);
            if (userId != q.Caller.Id
                && (!q.Caller.IsAdmin || !await conn.ExecuteScalarAsync<bool>(new CommandDefinition(UserExists, new { id = userId }, cancellationToken: ct))))
            {
                return Failure.NotFound("User");
            }

            return await Attendances.PageAsync(conn, $"a.user_id = @userId AND {Period.Sql}",
                new { userId, q.DateFrom, q.DateTo, limit = q.LimitOf(), offset = q.OffsetOf() }, ct);
        }
    }
}

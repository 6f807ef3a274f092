using Carter;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Trainings;

public static class GetAttendance
{
    public sealed record GetAttendanceQuery(long Id) : IQuery<Result<Versioned<Attendance>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapGet("/api/attendances/{id:long}",
                async Task<Results<Ok<Attendance>, StatusCodeHttpResult, ProblemHttpResult>> (long id, HttpContext http, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new GetAttendanceQuery(id), ct)).ToHttp(http))
            .WithName("GetAttendance").WithTags("Attendances").WithSummary("An attendance record, with its ETag")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    public sealed class Handler(NpgsqlDataSource db) : IQueryHandler<GetAttendanceQuery, Result<Versioned<Attendance>>>
    {
        public async ValueTask<Result<Versioned<Attendance>>> Handle(GetAttendanceQuery q, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await Attendances.FindAsync(conn, q.Id, ct) is { } found
                ? new Versioned<Attendance>(found.Attendance, found.Version)
                : Failure.NotFound("Attendance");
        }
    }
}

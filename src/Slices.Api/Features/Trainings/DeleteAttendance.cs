using Carter;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Trainings;

public static class DeleteAttendance
{
    public sealed record DeleteAttendanceCommand(long Id, long? IfMatch) : ICommand<Result<bool>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapDelete("/api/attendances/{id:long}",
                async Task<Results<NoContent, ProblemHttpResult>> (long id, HttpContext http, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new DeleteAttendanceCommand(id, ETags.IfMatch(http)), ct)).ToHttp(_ => TypedResults.NoContent()))
            .WithName("DeleteAttendance").WithTags("Attendances").WithSummary("Delete an attendance record")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .WithProblems();
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<DeleteAttendanceCommand, Result<bool>>
    {
        public async ValueTask<Result<bool>> Handle(DeleteAttendanceCommand c, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await GuardedWrites.DeleteAsync(conn, "attendances", c.Id, c.IfMatch, "Attendance", ct);
        }
    }
}

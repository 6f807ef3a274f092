using System.Text.Json;
using Carter;
using Dapper;
using FluentValidation;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Trainings;

// PATCH of an attendance record: only `status` changes. The record belongs to one user and training for
// good (record another one instead), and `marked_at` is when the status last changed.
public static class UpdateAttendance
{
    private static readonly string[] ReadOnly = ["id", "training", "user", "marked_at"];

    public sealed record AttendanceChanges(string Status);

    public sealed record ChangeAttendanceCommand(long Id, string Status, long? IfMatch) : ICommand<Result<Versioned<Attendance>>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapPatch("/api/attendances/{id:long}",
                (long id, JsonElement patch, HttpContext http, ISender mediator, CancellationToken ct) => mediator.MergeAndReplaceAsync(
                    http, patch, new GetAttendance.GetAttendanceQuery(id), a => new AttendanceChanges(a.Status),
                    (changes, ifMatch) => new ChangeAttendanceCommand(id, changes.Status, ifMatch), ReadOnly, ct))
            .WithName("UpdateAttendance").WithTags("Attendances").WithSummary("Change an attendance record's status; training, user and marked_at are read-only")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .Accepts<AttendanceChanges>("application/json")
            .WithProblems();
    }

    public sealed class Validator : AbstractValidator<ChangeAttendanceCommand>
    {
        public Validator() => RuleFor(x => x.Status).NotEmpty().KnownStatus();
    }

    public sealed class Handler(NpgsqlDataSource db, TimeProvider clock) : ICommandHandler<ChangeAttendanceCommand, Result<Versioned<Attendance>>>
    {
        private const string Update = $"""
            UPDATE attendances SET marked_at = CASE WHEN status = @Status THEN marked_at ELSE @now END, status = @Status
            WHERE id = @Id AND {ETags.Guard}
            RETURNING id, training_id AS training, user_id AS "user", status, marked_at, xmin::text::bigint AS version
            """;

        public async ValueTask<Result<Versioned<Attendance>>> Handle(ChangeAttendanceCommand c, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var row = await conn.QuerySingleOrDefaultAsync<Attendances.Row>(new CommandDefinition(
                Update, new { c.Id, c.Status, c.IfMatch, now = clock.GetUtcNow().UtcDateTime }, cancellationToken: ct));
            if (row is not null)
            {
                return new Versioned<Attendance>(row.ToAttendance(), row.Version);
            }

            return await GuardedWrites.WhyMissedAsync(conn, "attendances", c.Id, "Attendance", ct);
        }
    }
}

using System.Security.Claims;
using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Stages;

public static class DeleteBooking
{
    public sealed record DeleteBookingCommand(long Id, Caller Caller, long? IfMatch) : ICommand<Result<bool>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapDelete("/api/bookings/{id:long}",
                async Task<Results<NoContent, ProblemHttpResult>> (long id, HttpContext http, ClaimsPrincipal user, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new DeleteBookingCommand(id, user.Caller(), ETags.IfMatch(http)), ct)).ToHttp(_ => TypedResults.NoContent()))
            .WithName("DeleteBooking").WithTags("Stages").WithSummary("Delete one of your bookings (admin: any)")
            .RequireAuthorization()
            .WithProblems();
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<DeleteBookingCommand, Result<bool>>
    {
        // Who may delete it and which version are one statement with the delete, so a booking deleted meanwhile is
        // simply not matched (no read before that it could have changed after).
        private const string Delete = $"DELETE FROM bookings b WHERE b.id = @id AND {Bookings.Visible} AND {ETags.Guard}";

        public async ValueTask<Result<bool>> Handle(DeleteBookingCommand c, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            var args = new { id = c.Id, admin = c.Caller.IsAdmin, caller = c.Caller.Id, c.IfMatch };
            if (await conn.ExecuteAsync(new CommandDefinition(Delete, args, cancellationToken: ct)) == 1)
            {
                return true;
            }

            // Not GuardedWrites.WhyMissedAsync: another user's booking must stay a 404 even with a stale If-Match.
            return await Bookings.FindAsync(conn, c.Id, c.Caller, ct) is null ? Failure.NotFound("Booking") : Failure.PreconditionFailed();
        }
    }
}

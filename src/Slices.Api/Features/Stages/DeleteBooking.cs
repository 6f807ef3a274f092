using System.Security.Claims;
using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
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
        private const string Delete = $"DELETE FROM bookings WHERE id = @Id AND {ETags.Guard}";

        public async ValueTask<Result<bool>> Handle(DeleteBookingCommand c, CancellationToken ct)
        {
            return await db.InTransactionAsync<Result<bool>>(async (conn, tx) =>
            {
                if (await Bookings.FindAsync(conn, c.Id, c.Caller, ct, tx) is null)
                {
                    return Failure.NotFound("Booking");
                }

                return await conn.ExecuteAsync(new CommandDefinition(Delete, new { c.Id, c.IfMatch }, tx, cancellationToken: ct)) == 1
                    ? true
                    : Failure.PreconditionFailed();
            }, ct);
        }
    }
}

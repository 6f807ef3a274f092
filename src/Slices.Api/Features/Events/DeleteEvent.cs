using Carter;
using Dapper;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Events;

// Deletes an event (admin); its image file goes once the row is gone.
public static class DeleteEvent
{
    public sealed record DeleteEventCommand(long Id, long? IfMatch) : ICommand<Result<bool>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapDelete("/api/events/{id:long}",
                async Task<Results<NoContent, ProblemHttpResult>> (long id, HttpContext http, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new DeleteEventCommand(id, ETags.IfMatch(http)), ct)).ToHttp(_ => TypedResults.NoContent()))
            .WithName("DeleteEvent").WithTags("Events").WithSummary("Delete an event (admin)")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .WithProblems();
    }

    public sealed class Handler(NpgsqlDataSource db, EventsSettings settings) : ICommandHandler<DeleteEventCommand, Result<bool>>
    {
        private const string Delete = $"DELETE FROM events e WHERE e.id = @Id AND {Events.Guard} RETURNING e.id, e.image";

        public async ValueTask<Result<bool>> Handle(DeleteEventCommand c, CancellationToken ct)
        {
            var deleted = await db.InTransactionAsync<Result<Deleted>>(async (conn, tx) =>
            {
                if (await conn.QuerySingleOrDefaultAsync<Deleted>(new CommandDefinition(Delete, new { c.Id, c.IfMatch }, tx, cancellationToken: ct)) is { } row)
                {
                    return row;
                }

                return await GuardedWrites.WhyMissedAsync(conn, "events", c.Id, "Event", ct, tx);
            }, ct);
            if (!deleted.IsSuccess)
            {
                return deleted.Failure!;
            }

            EventImages.Delete(settings.MediaRoot, deleted.Value.Image);
            return true;
        }
    }

    private sealed record Deleted(long Id, string? Image);
}

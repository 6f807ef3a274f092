using Carter;
using Mediator;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;
using Slices.Api.Common.Auth;
using Slices.Api.Common.Data;
using Slices.Api.Common.Http;

namespace Slices.Api.Features.Cassettes;

// Removes a cassette from the catalogue. Orders that bought it keep their lines (id and title as sold).
public static class DeleteCassette
{
    public sealed record DeleteCassetteCommand(long Id, long? IfMatch) : ICommand<Result<bool>>;

    public sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) => app.MapDelete("/api/cassettes/{id:long}",
                async Task<Results<NoContent, ProblemHttpResult>> (long id, HttpContext http, ISender mediator, CancellationToken ct) =>
                    (await mediator.Send(new DeleteCassetteCommand(id, ETags.IfMatch(http)), ct)).ToHttp(_ => TypedResults.NoContent()))
            .WithName("DeleteCassette").WithTags("Cassettes").WithSummary("Delete a cassette; orders that include it stay readable (honours If-Match)")
            .RequireAuthorization(CurrentUser.AdminPolicy)
            .WithProblems();
    }

    public sealed class Handler(NpgsqlDataSource db) : ICommandHandler<DeleteCassetteCommand, Result<bool>>
    {
        public async ValueTask<Result<bool>> Handle(DeleteCassetteCommand c, CancellationToken ct)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await GuardedWrites.DeleteAsync(conn, "cassettes", c.Id, c.IfMatch, "Cassette", ct);
        }
    }
}
